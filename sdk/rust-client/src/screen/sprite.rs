//! [`Sprite`]s: small images drawn onto a [`Framebuffer`] with
//! transparency, flipping and clipping at the edges.

use super::{Format, Framebuffer, Rect};

/// Which ways to mirror a sprite when drawing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flip {
    /// Mirror left to right.
    pub horizontal: bool,
    /// Mirror top to bottom.
    pub vertical: bool,
}

impl Flip {
    /// As it is.
    pub const NONE: Flip = Flip {
        horizontal: false,
        vertical: false,
    };
    /// Mirrored left to right.
    pub const HORIZONTAL: Flip = Flip {
        horizontal: true,
        vertical: false,
    };
    /// Mirrored top to bottom.
    pub const VERTICAL: Flip = Flip {
        horizontal: false,
        vertical: true,
    };
    /// Both (a half turn).
    pub const BOTH: Flip = Flip {
        horizontal: true,
        vertical: true,
    };
}

/// An image to draw onto a framebuffer of the same [`Format`]: RGBA with
/// per-pixel alpha (0 transparent, 255 opaque, blended in between), or
/// indexed with one palette index that is transparent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sprite {
    width: i32,
    height: i32,
    format: Format,
    pixels: Vec<u8>,
    transparent: Option<u8>,
}

impl Sprite {
    /// An RGBA sprite from `width` × `height` pixels of four bytes (red,
    /// green, blue, alpha), row by row. `None` when the length is not
    /// `width × height × 4`.
    pub fn from_rgba(width: u16, height: u16, pixels: Vec<u8>) -> Option<Sprite> {
        (pixels.len() == width as usize * height as usize * 4).then_some(Sprite {
            width: width as i32,
            height: height as i32,
            format: Format::Rgba,
            pixels,
            transparent: None,
        })
    }

    /// An indexed sprite from `width` × `height` palette indices, row by
    /// row; pixels of index `transparent` (if any) are not drawn. `None`
    /// when the length is not `width × height`.
    pub fn from_indexed(
        width: u16,
        height: u16,
        pixels: Vec<u8>,
        transparent: Option<u8>,
    ) -> Option<Sprite> {
        (pixels.len() == width as usize * height as usize).then_some(Sprite {
            width: width as i32,
            height: height as i32,
            format: Format::Indexed,
            pixels,
            transparent,
        })
    }

    /// An RGBA sprite drawn as text: one string per row, one character per
    /// pixel, coloured by `legend` (character, 0xRRGGBB); characters not in
    /// the legend (like `.`) are transparent. Rows shorter than the longest
    /// are transparent at the end.
    ///
    /// ```
    /// use lodge_client::screen::Sprite;
    /// let heart = Sprite::from_art(&[".#.#.", "#####", ".###.", "..#.."], &[('#', 0xe64545)]);
    /// assert_eq!((heart.width(), heart.height()), (5, 4));
    /// ```
    pub fn from_art(rows: &[&str], legend: &[(char, u32)]) -> Sprite {
        let width = rows.iter().map(|r| r.chars().count()).max().unwrap_or(0);
        let mut pixels = vec![0u8; width * rows.len() * 4];
        for (y, row) in rows.iter().enumerate() {
            for (x, ch) in row.chars().enumerate() {
                if let Some((_, c)) = legend.iter().find(|(k, _)| *k == ch) {
                    let [_, r, g, b] = c.to_be_bytes();
                    let at = (y * width + x) * 4;
                    pixels[at..at + 4].copy_from_slice(&[r, g, b, 255]);
                }
            }
        }
        Sprite {
            width: width as i32,
            height: rows.len() as i32,
            format: Format::Rgba,
            pixels,
            transparent: None,
        }
    }

    /// An indexed sprite drawn as text, like [`from_art`](Sprite::from_art)
    /// with palette indices in the legend; other characters get index
    /// `transparent`, which is not drawn.
    pub fn from_art_indexed(rows: &[&str], legend: &[(char, u8)], transparent: u8) -> Sprite {
        let width = rows.iter().map(|r| r.chars().count()).max().unwrap_or(0);
        let mut pixels = vec![transparent; width * rows.len()];
        for (y, row) in rows.iter().enumerate() {
            for (x, ch) in row.chars().enumerate() {
                if let Some((_, index)) = legend.iter().find(|(k, _)| *k == ch) {
                    pixels[y * width + x] = *index;
                }
            }
        }
        Sprite {
            width: width as i32,
            height: rows.len() as i32,
            format: Format::Indexed,
            pixels,
            transparent: Some(transparent),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> i32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> i32 {
        self.height
    }

    /// The pixel format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The raw pixels.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }
}

impl Framebuffer {
    /// Draws `sprite` with its top left at (`x`, `y`), mirrored as `flip`
    /// says, clipped at the edges.
    ///
    /// # Panics
    ///
    /// When the sprite's format is not the framebuffer's.
    pub fn sprite(&mut self, sprite: &Sprite, x: i32, y: i32, flip: Flip) {
        let whole = Rect::new(0, 0, sprite.width, sprite.height);
        self.sprite_part(sprite, whole, x, y, flip);
    }

    /// Draws the part `source` of `sprite` (a frame of a sprite sheet) with
    /// its top left at (`x`, `y`), mirrored as `flip` says, clipped at the
    /// edges of the sprite and of the framebuffer.
    ///
    /// # Panics
    ///
    /// When the sprite's format is not the framebuffer's.
    pub fn sprite_part(&mut self, sprite: &Sprite, source: Rect, x: i32, y: i32, flip: Flip) {
        assert_eq!(
            sprite.format, self.format,
            "a sprite of format {:?} cannot be drawn on a framebuffer of format {:?}",
            sprite.format, self.format
        );
        let Some(source) = source.intersect(&Rect::new(0, 0, sprite.width, sprite.height)) else {
            return;
        };
        let target = Rect::new(x, y, source.width, source.height);
        let Some(visible) = target.intersect(&self.bounds()) else {
            return;
        };
        for dy in visible.y..visible.y + visible.height {
            let row = dy - y;
            let sy = source.y
                + if flip.vertical {
                    source.height - 1 - row
                } else {
                    row
                };
            for dx in visible.x..visible.x + visible.width {
                let col = dx - x;
                let sx = source.x
                    + if flip.horizontal {
                        source.width - 1 - col
                    } else {
                        col
                    };
                let from = (sy * sprite.width + sx) as usize;
                let to = self.offset(dx, dy);
                match self.format {
                    Format::Indexed => {
                        let index = sprite.pixels[from];
                        if sprite.transparent != Some(index) {
                            self.bytes[to] = index;
                        }
                    }
                    Format::Rgba => {
                        let src = &sprite.pixels[from * 4..from * 4 + 4];
                        let alpha = src[3] as u32;
                        let dst = &mut self.bytes[to..to + 4];
                        match alpha {
                            0 => {}
                            255 => dst.copy_from_slice(&[src[0], src[1], src[2], 255]),
                            _ => {
                                for i in 0..3 {
                                    let mixed =
                                        src[i] as u32 * alpha + dst[i] as u32 * (255 - alpha);
                                    dst[i] = ((mixed + 127) / 255) as u8;
                                }
                                dst[3] = 255;
                            }
                        }
                    }
                }
            }
        }
    }
}
