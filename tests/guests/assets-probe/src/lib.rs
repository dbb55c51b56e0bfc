//! Reads the assets the browser test bundles (`data/level.txt`, a small
//! PNG `img/dots.png`, and `img/broken.png`, which is not a PNG) on `init`,
//! and writes one line per finding on the grid: the names, the bytes of
//! the text, the image's size and two pixels, and each error case.

wit_bindgen::generate!({
    path: ["../../../wit", "../../../wit/v0.2", "wit"],
    world: "lodge:assets-probe/probe",
    generate_all,
});

use exports::lodge::app0_1_0::client_events::{Event, Guest};
use lodge::app0_1_0::terminal::{self, Rgb};
use lodge::app0_2_0::assets::{self, Error};

struct Probe;

fn error_text(e: &Error) -> String {
    match e {
        Error::NotFound => "not-found".into(),
        Error::NotAnImage => "not-an-image".into(),
        Error::Undecodable(reason) => format!("undecodable({})", !reason.is_empty()),
    }
}

fn findings() -> Vec<String> {
    let mut lines = vec![format!("names: {}", assets::names().join(","))];
    lines.push(match assets::read("data/level.txt") {
        Ok(bytes) => format!(
            "read: {} bytes \"{}\"",
            bytes.len(),
            String::from_utf8_lossy(&bytes).trim_end()
        ),
        Err(e) => format!("read: {}", error_text(&e)),
    });
    lines.push(match assets::read_image("img/dots.png") {
        Ok(image) => {
            let pixel = |x: u32, y: u32| {
                let at = ((y * image.width + x) * 4) as usize;
                let p = &image.pixels[at..at + 4];
                format!("{},{},{},{}", p[0], p[1], p[2], p[3])
            };
            format!(
                "image: {}x{} len {} px(0,0)={} px(2,1)={}",
                image.width,
                image.height,
                image.pixels.len(),
                pixel(0, 0),
                pixel(2, 1)
            )
        }
        Err(e) => format!("image: {}", error_text(&e)),
    });
    let err = |r: Result<(), Error>| r.err().map_or("ok".into(), |e| error_text(&e));
    lines.push(format!(
        "missing: {} {}",
        err(assets::read("nope.txt").map(drop)),
        err(assets::read_image("nope.png").map(drop))
    ));
    lines.push(format!(
        "text as image: {}",
        err(assets::read_image("data/level.txt").map(drop))
    ));
    lines.push(format!(
        "broken: {}",
        err(assets::read_image("img/broken.png").map(drop))
    ));
    lines
}

impl Guest for Probe {
    fn handle(event: Event) {
        if let Event::Init(_) = event {
            let black = Rgb { r: 0, g: 0, b: 0 };
            let white = Rgb {
                r: 255,
                g: 255,
                b: 255,
            };
            terminal::clear(black);
            for (row, line) in findings().iter().enumerate() {
                terminal::write(0, row as u16, line, white, black);
            }
        }
    }
}

export!(Probe);
