//! Tests of the drawing code, on the host.

use super::*;

/// The framebuffer as text, one char per pixel: `.` for 0, `#` for anything
/// else (indexed), to compare shapes at a glance.
fn picture(fb: &Framebuffer) -> Vec<String> {
    (0..fb.height())
        .map(|y| {
            (0..fb.width())
                .map(|x| match fb.pixel(x, y) {
                    Some(0) => '.',
                    Some(_) => '#',
                    None => '?',
                })
                .collect()
        })
        .collect()
}

#[test]
fn rgba_pixels_are_written_opaque_and_read_back() {
    let mut fb = Framebuffer::rgba(4, 3);
    assert_eq!(fb.bytes().len(), 4 * 3 * 4);
    assert_eq!(&fb.bytes()[0..4], &[0, 0, 0, 255]);
    fb.set_pixel(2, 1, rgb(10, 20, 30));
    let at = (4 + 2) * 4;
    assert_eq!(&fb.bytes()[at..at + 4], &[10, 20, 30, 255]);
    assert_eq!(fb.pixel(2, 1), Some(0x0a141e));
    assert_eq!(fb.pixel(4, 1), None);
    assert_eq!(fb.pixel(-1, 0), None);
}

#[test]
fn drawing_outside_the_edges_is_clipped() {
    let mut fb = Framebuffer::indexed(4, 4);
    fb.set_pixel(-1, 0, 1);
    fb.set_pixel(4, 0, 1);
    fb.fill_rect(-2, -2, 4, 4, 1);
    fb.fill_rect(3, 3, 10, 10, 2);
    fb.fill_rect(10, 10, 3, 3, 3);
    fb.line(-5, 3, 1, 3, 4);
    assert_eq!(picture(&fb), ["##..", "##..", "....", "##.#"]);
    assert_eq!(fb.pixel(3, 3), Some(2));
}

#[test]
fn lines_join_their_ends_in_any_direction() {
    for (x0, y0, x1, y1) in [
        (0, 0, 7, 3),
        (7, 3, 0, 0),
        (2, 7, 5, 0),
        (0, 4, 7, 4),
        (3, 0, 3, 7),
    ] {
        let mut fb = Framebuffer::indexed(8, 8);
        fb.line(x0, y0, x1, y1, 1);
        assert_eq!(fb.pixel(x0, y0), Some(1));
        assert_eq!(fb.pixel(x1, y1), Some(1));
        let set = fb.bytes().iter().filter(|b| **b != 0).count() as i32;
        // Bresenham draws exactly one pixel per step along the longer axis.
        assert_eq!(set, (x1 - x0).abs().max((y1 - y0).abs()) + 1);
    }
    let mut fb = Framebuffer::indexed(7, 3);
    fb.line(0, 0, 6, 2, 1);
    assert_eq!(picture(&fb), ["##.....", "..###..", ".....##"]);
}

#[test]
fn rectangles_outline_and_fill() {
    let mut fb = Framebuffer::indexed(5, 4);
    fb.rect(0, 0, 5, 4, 1);
    assert_eq!(picture(&fb), ["#####", "#...#", "#...#", "#####"]);
    fb.fill_rect(1, 1, 3, 2, 1);
    assert!(fb.bytes().iter().all(|b| *b == 1));
    let mut fb = Framebuffer::indexed(3, 3);
    fb.rect(1, 1, 0, 5, 1);
    fb.fill_rect(1, 1, -2, 2, 1);
    assert!(
        fb.bytes().iter().all(|b| *b == 0),
        "empty rectangles draw nothing"
    );
}

#[test]
fn circles_are_round_and_symmetric() {
    let mut fb = Framebuffer::indexed(7, 7);
    fb.circle(3, 3, 3, 1);
    assert_eq!(
        picture(&fb),
        [
            "..###..", ".#...#.", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."
        ]
    );
    let mut fb = Framebuffer::indexed(7, 7);
    fb.fill_circle(3, 3, 3, 1);
    assert_eq!(
        picture(&fb),
        [
            "..###..", ".#####.", "#######", "#######", "#######", ".#####.", "..###.."
        ]
    );
    let mut fb = Framebuffer::indexed(3, 3);
    fb.fill_circle(1, 1, 0, 1);
    assert_eq!(picture(&fb), ["...", ".#.", "..."]);
}

#[test]
fn text_draws_the_font_and_advances_the_pen() {
    let mut fb = Framebuffer::indexed(12, 8);
    let end = fb.text(0, 0, "T!", 1);
    assert_eq!(end, 12);
    assert_eq!(
        picture(&fb),
        [
            "#####...#...",
            "..#.....#...",
            "..#.....#...",
            "..#.....#...",
            "..#.....#...",
            "..#.........",
            "..#.....#...",
            "............",
        ]
    );
    let mut fb = Framebuffer::indexed(10, 14);
    fb.text_scaled(0, 0, "-", 1, 2);
    assert_eq!(fb.pixel(0, 6), Some(1));
    assert_eq!(fb.pixel(9, 7), Some(1));
    assert_eq!(fb.pixel(0, 5), Some(0));
    let mut fb = Framebuffer::indexed(6, 16);
    fb.text(0, 0, ".\n.", 1);
    assert_eq!(fb.pixel(1, 6), Some(1));
    assert_eq!(fb.pixel(1, 14), Some(1), "a newline moves down 8 pixels");
}

#[test]
fn sprites_are_flipped_and_clipped() {
    let arrow = Sprite::from_art_indexed(&["#..", "##.", "###"], &[('#', 7)], 0);
    let mut fb = Framebuffer::indexed(3, 3);
    fb.sprite(&arrow, 0, 0, Flip::NONE);
    assert_eq!(picture(&fb), ["#..", "##.", "###"]);
    let mut fb = Framebuffer::indexed(3, 3);
    fb.sprite(&arrow, 0, 0, Flip::HORIZONTAL);
    assert_eq!(picture(&fb), ["..#", ".##", "###"]);
    let mut fb = Framebuffer::indexed(3, 3);
    fb.sprite(&arrow, 0, 0, Flip::VERTICAL);
    assert_eq!(picture(&fb), ["###", "##.", "#.."]);
    let mut fb = Framebuffer::indexed(3, 3);
    fb.sprite(&arrow, 0, 0, Flip::BOTH);
    assert_eq!(picture(&fb), ["###", ".##", "..#"]);
    let mut fb = Framebuffer::indexed(3, 3);
    fb.sprite(&arrow, 1, -1, Flip::NONE);
    assert_eq!(picture(&fb), [".##", ".##", "..."]);
    let mut fb = Framebuffer::indexed(3, 3);
    fb.sprite(&arrow, -2, 1, Flip::HORIZONTAL);
    assert_eq!(picture(&fb), ["...", "#..", "#.."]);
    fb.sprite(&arrow, 3, 0, Flip::NONE);
    fb.sprite(&arrow, -3, 0, Flip::NONE);
    assert_eq!(
        picture(&fb),
        ["...", "#..", "#.."],
        "sprites fully outside draw nothing"
    );
}

#[test]
fn transparent_pixels_keep_what_was_under_them() {
    let sprite = Sprite::from_indexed(2, 1, vec![5, 9], Some(5)).unwrap();
    let mut fb = Framebuffer::indexed(2, 1);
    fb.clear(3);
    fb.sprite(&sprite, 0, 0, Flip::NONE);
    assert_eq!(fb.bytes(), &[3, 9]);

    let sprite = Sprite::from_rgba(3, 1, vec![255, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 128])
        .expect("3×1 pixels");
    let mut fb = Framebuffer::rgba(3, 1);
    fb.clear(rgb(0, 200, 0));
    fb.sprite(&sprite, 0, 0, Flip::NONE);
    assert_eq!(
        fb.pixel(0, 0),
        Some(rgb(0, 200, 0)),
        "alpha 0 is transparent"
    );
    assert_eq!(fb.pixel(1, 0), Some(rgb(255, 0, 0)), "alpha 255 is opaque");
    assert_eq!(fb.pixel(2, 0), Some(rgb(0, 100, 128)), "alpha 128 blends");
    assert!(fb.bytes().chunks(4).all(|px| px[3] == 255));
}

#[test]
fn sprite_parts_come_from_a_sheet() {
    let sheet = Sprite::from_art_indexed(&["#.##", "#.##"], &[('#', 1)], 0);
    let mut fb = Framebuffer::indexed(2, 2);
    fb.sprite_part(&sheet, Rect::new(2, 0, 2, 2), 0, 0, Flip::NONE);
    assert_eq!(picture(&fb), ["##", "##"]);
    let mut fb = Framebuffer::indexed(2, 2);
    fb.sprite_part(&sheet, Rect::new(0, 0, 2, 2), 0, 0, Flip::HORIZONTAL);
    assert_eq!(picture(&fb), [".#", ".#"]);
}

#[test]
fn art_sprites_and_raw_sprites_check_their_size() {
    let heart = Sprite::from_art(&[".#", "#"], &[('#', 0x102030)]);
    assert_eq!((heart.width(), heart.height()), (2, 2));
    assert_eq!(&heart.pixels()[4..8], &[0x10, 0x20, 0x30, 255]);
    assert_eq!(heart.pixels()[3], 0);
    assert_eq!(
        heart.pixels()[15],
        0,
        "short rows are transparent at the end"
    );
    assert!(Sprite::from_rgba(2, 2, vec![0; 15]).is_none());
    assert!(Sprite::from_indexed(2, 2, vec![0; 5], None).is_none());
}

#[test]
#[should_panic(expected = "cannot be drawn on a framebuffer of format Indexed")]
fn a_sprite_of_another_format_is_refused() {
    let sprite = Sprite::from_art(&["#"], &[('#', 1)]);
    Framebuffer::indexed(1, 1).sprite(&sprite, 0, 0, Flip::NONE);
}

#[test]
fn rects_intersect_and_contain() {
    let a = Rect::new(0, 0, 4, 4);
    assert_eq!(
        a.intersect(&Rect::new(2, 2, 4, 4)),
        Some(Rect::new(2, 2, 2, 2))
    );
    assert_eq!(a.intersect(&Rect::new(4, 0, 1, 1)), None);
    assert!(a.contains(3, 3) && !a.contains(4, 3));
    assert!(a.overlaps(&Rect::new(-1, -1, 2, 2)));
}
