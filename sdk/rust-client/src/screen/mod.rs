//! The pixel screen: a [`Framebuffer`] the client owns and draws on (pixels,
//! lines, rectangles, circles, [`Sprite`]s, text in a built-in font), shown
//! with [`Framebuffer::present`] once per frame. Declare `screen` in
//! `[client].capabilities` (instead of the text grid).
//!
//! A colour is a `u32`: `0xRRGGBB` on an RGBA framebuffer, a palette index
//! (0 to 255) on an indexed one. [`rgb`] builds one from its parts.
//!
//! The drawing code is plain Rust (it builds and is tested on any target);
//! only presenting and the palette talk to the page.

pub mod font;
mod sprite;

pub use sprite::{Flip, Sprite};

/// How a framebuffer stores pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One byte per pixel: an index into the screen's 256-entry palette
    /// (set with [`set_palette`]).
    Indexed,
    /// Four bytes per pixel: red, green, blue, alpha (the screen ignores
    /// alpha; sprites use it).
    Rgba,
}

impl Format {
    /// Bytes per pixel.
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            Format::Indexed => 1,
            Format::Rgba => 4,
        }
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width (nothing when zero or less).
    pub width: i32,
    /// Height (nothing when zero or less).
    pub height: i32,
}

impl Rect {
    /// A rectangle from its left, top, width and height.
    pub const fn new(x: i32, y: i32, width: i32, height: i32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// The part of `self` inside `other`, if any.
    pub fn intersect(&self, other: &Rect) -> Option<Rect> {
        let left = self.x.max(other.x);
        let top = self.y.max(other.y);
        let right = (self.x.saturating_add(self.width)).min(other.x.saturating_add(other.width));
        let bottom = (self.y.saturating_add(self.height)).min(other.y.saturating_add(other.height));
        (left < right && top < bottom).then(|| Rect::new(left, top, right - left, bottom - top))
    }

    /// Whether the point (`x`, `y`) is inside.
    pub fn contains(&self, x: i32, y: i32) -> bool {
        x >= self.x && y >= self.y && x - self.x < self.width && y - self.y < self.height
    }

    /// Whether the two rectangles overlap (for collisions).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.intersect(other).is_some()
    }
}

/// A colour for an RGBA framebuffer from its red, green and blue.
pub const fn rgb(r: u8, g: u8, b: u8) -> u32 {
    ((r as u32) << 16) | ((g as u32) << 8) | b as u32
}

/// Named colours for RGBA framebuffers (0xRRGGBB).
pub mod colours {
    /// Black.
    pub const BLACK: u32 = 0x000000;
    /// White.
    pub const WHITE: u32 = 0xffffff;
    /// A middle grey.
    pub const GREY: u32 = 0x808080;
    /// Red.
    pub const RED: u32 = 0xe64545;
    /// Orange.
    pub const ORANGE: u32 = 0xf08a24;
    /// Yellow.
    pub const YELLOW: u32 = 0xf5d442;
    /// Green.
    pub const GREEN: u32 = 0x4fc25a;
    /// Blue.
    pub const BLUE: u32 = 0x3f7fe0;
    /// A deep night blue.
    pub const NAVY: u32 = 0x141a33;
    /// Purple.
    pub const PURPLE: u32 = 0x9650d2;
}

/// Pixels the client owns and draws on, row by row with no padding, in the
/// layout the screen takes: present it with [`Framebuffer::present`].
/// Drawing outside the edges is clipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framebuffer {
    width: i32,
    height: i32,
    format: Format,
    bytes: Vec<u8>,
}

impl Framebuffer {
    /// A framebuffer of `width` × `height` pixels in `format`, all zero
    /// (black, or palette index 0).
    pub fn new(width: u16, height: u16, format: Format) -> Framebuffer {
        let len = width as usize * height as usize * format.bytes_per_pixel();
        let mut fb = Framebuffer {
            width: width as i32,
            height: height as i32,
            format,
            bytes: vec![0; len],
        };
        fb.clear(0);
        fb
    }

    /// An RGBA framebuffer (colours are 0xRRGGBB).
    pub fn rgba(width: u16, height: u16) -> Framebuffer {
        Framebuffer::new(width, height, Format::Rgba)
    }

    /// An indexed framebuffer (colours are palette indices).
    pub fn indexed(width: u16, height: u16) -> Framebuffer {
        Framebuffer::new(width, height, Format::Indexed)
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

    /// The whole framebuffer as a rectangle.
    pub fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// The raw pixels, as presented.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw pixels, to write directly.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    fn offset(&self, x: i32, y: i32) -> usize {
        (y as usize * self.width as usize + x as usize) * self.format.bytes_per_pixel()
    }

    /// Writes colour `c` at byte offset `at` (the pixel is known to exist).
    fn put(&mut self, at: usize, c: u32) {
        match self.format {
            Format::Indexed => self.bytes[at] = c as u8,
            Format::Rgba => {
                let [_, r, g, b] = c.to_be_bytes();
                self.bytes[at..at + 4].copy_from_slice(&[r, g, b, 255]);
            }
        }
    }

    /// The colour at (`x`, `y`), or `None` outside the framebuffer.
    pub fn pixel(&self, x: i32, y: i32) -> Option<u32> {
        if !self.bounds().contains(x, y) {
            return None;
        }
        let at = self.offset(x, y);
        Some(match self.format {
            Format::Indexed => self.bytes[at] as u32,
            Format::Rgba => rgb(self.bytes[at], self.bytes[at + 1], self.bytes[at + 2]),
        })
    }

    /// Sets the pixel at (`x`, `y`); nothing outside the framebuffer.
    pub fn set_pixel(&mut self, x: i32, y: i32, c: u32) {
        if self.bounds().contains(x, y) {
            let at = self.offset(x, y);
            self.put(at, c);
        }
    }

    /// Fills the whole framebuffer with `c`.
    pub fn clear(&mut self, c: u32) {
        match self.format {
            Format::Indexed => self.bytes.fill(c as u8),
            Format::Rgba => {
                let [_, r, g, b] = c.to_be_bytes();
                for px in self.bytes.chunks_exact_mut(4) {
                    px.copy_from_slice(&[r, g, b, 255]);
                }
            }
        }
    }

    /// Fills the rectangle at (`x`, `y`) of `width` × `height` with `c`.
    pub fn fill_rect(&mut self, x: i32, y: i32, width: i32, height: i32, c: u32) {
        let Some(r) = Rect::new(x, y, width, height).intersect(&self.bounds()) else {
            return;
        };
        for row in r.y..r.y + r.height {
            let start = self.offset(r.x, row);
            match self.format {
                Format::Indexed => self.bytes[start..start + r.width as usize].fill(c as u8),
                Format::Rgba => {
                    let [_, red, green, blue] = c.to_be_bytes();
                    for px in self.bytes[start..start + r.width as usize * 4].chunks_exact_mut(4) {
                        px.copy_from_slice(&[red, green, blue, 255]);
                    }
                }
            }
        }
    }

    /// Draws the one-pixel outline of the rectangle at (`x`, `y`) of
    /// `width` × `height`.
    pub fn rect(&mut self, x: i32, y: i32, width: i32, height: i32, c: u32) {
        if width <= 0 || height <= 0 {
            return;
        }
        self.fill_rect(x, y, width, 1, c);
        self.fill_rect(x, y + height - 1, width, 1, c);
        self.fill_rect(x, y + 1, 1, height - 2, c);
        self.fill_rect(x + width - 1, y + 1, 1, height - 2, c);
    }

    /// Draws a line from (`x0`, `y0`) to (`x1`, `y1`), both ends included
    /// (Bresenham's algorithm).
    pub fn line(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: u32) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = ((x1 - x0).signum(), (y1 - y0).signum());
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.set_pixel(x, y, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Draws the outline of a circle centred on (`cx`, `cy`) with radius `r`.
    pub fn circle(&mut self, cx: i32, cy: i32, r: i32, c: u32) {
        self.circle_spans(cx, cy, r, |fb, left, right, y| {
            fb.set_pixel(left, y, c);
            fb.set_pixel(right, y, c);
        });
    }

    /// Fills a circle centred on (`cx`, `cy`) with radius `r`.
    pub fn fill_circle(&mut self, cx: i32, cy: i32, r: i32, c: u32) {
        self.circle_spans(cx, cy, r, |fb, left, right, y| {
            fb.fill_rect(left, y, right - left + 1, 1, c)
        });
    }

    /// Calls `span(left, right, y)` for the edge points of each row the
    /// circle covers (the midpoint circle algorithm); a row may come twice.
    fn circle_spans(
        &mut self,
        cx: i32,
        cy: i32,
        r: i32,
        mut span: impl FnMut(&mut Self, i32, i32, i32),
    ) {
        if r < 0 {
            return;
        }
        let (mut x, mut y, mut err) = (r, 0, 1 - r);
        while x >= y {
            span(self, cx - x, cx + x, cy + y);
            span(self, cx - x, cx + x, cy - y);
            span(self, cx - y, cx + y, cy + x);
            span(self, cx - y, cx + y, cy - x);
            y += 1;
            if err < 0 {
                err += 2 * y + 1;
            } else {
                x -= 1;
                err += 2 * (y - x) + 1;
            }
        }
    }

    /// Draws `text` with its top left at (`x`, `y`) in the built-in 5×7
    /// font (see [`font`]), `\n` starting a new line. Returns the x where
    /// the next character would go.
    pub fn text(&mut self, x: i32, y: i32, text: &str, c: u32) -> i32 {
        self.text_scaled(x, y, text, c, 1)
    }

    /// Like [`text`](Framebuffer::text) with every font pixel drawn as a
    /// `scale` × `scale` square.
    pub fn text_scaled(&mut self, x: i32, y: i32, text: &str, c: u32, scale: i32) -> i32 {
        let scale = scale.max(1);
        let (mut pen_x, mut pen_y) = (x, y);
        for ch in text.chars() {
            if ch == '\n' {
                pen_x = x;
                pen_y += font::LINE_HEIGHT * scale;
                continue;
            }
            for (row, bits) in font::glyph(ch).iter().enumerate() {
                for col in 0..font::GLYPH_WIDTH {
                    if bits & (0b10000 >> col) != 0 {
                        let px = pen_x + col * scale;
                        let py = pen_y + row as i32 * scale;
                        self.fill_rect(px, py, scale, scale, c);
                    }
                }
            }
            pen_x += font::ADVANCE * scale;
        }
        pen_x
    }

    /// Draws `text` centred horizontally on the framebuffer, at row `y`.
    pub fn text_centered(&mut self, y: i32, text: &str, c: u32, scale: i32) {
        let (width, _) = font::measure(text, scale);
        self.text_scaled((self.width - width) / 2, y, text, c, scale);
    }
}

#[cfg(target_arch = "wasm32")]
mod host {
    use super::{Format, Framebuffer, Rect};
    use crate::bindings::lodge::app0_2::screen as wit;
    use std::cell::Cell;

    thread_local! {
        /// The mode this client last set, so presenting sets it only when it changes.
        static MODE: Cell<Option<(u16, u16, Format)>> = const { Cell::new(None) };
    }

    /// The screen's current size and format.
    pub fn mode() -> (u16, u16, Format) {
        let m = wit::get_mode();
        let format = match m.format {
            wit::PixelFormat::Indexed8 => Format::Indexed,
            wit::PixelFormat::Rgba8 => Format::Rgba,
        };
        (m.width, m.height, format)
    }

    /// Changes the screen's size and format (clearing it to black). Up to
    /// 1280×720; the page says why when it refuses.
    pub fn set_mode(width: u16, height: u16, format: Format) -> Result<(), String> {
        let format_wit = match format {
            Format::Indexed => wit::PixelFormat::Indexed8,
            Format::Rgba => wit::PixelFormat::Rgba8,
        };
        wit::set_mode(wit::Mode {
            width,
            height,
            format: format_wit,
        })?;
        MODE.set(Some((width, height, format)));
        Ok(())
    }

    /// Sets palette entries from `first` on, each 0xRRGGBB (used by indexed
    /// framebuffers; past entry 255 is ignored).
    pub fn set_palette(first: u8, colours: &[u32]) {
        wit::set_palette(first, colours);
    }

    impl Framebuffer {
        fn ensure_mode(&self) -> Result<(), String> {
            let mode = (self.width as u16, self.height as u16, self.format);
            if MODE.get() != Some(mode) {
                set_mode(mode.0, mode.1, mode.2)?;
            }
            Ok(())
        }

        /// Shows the whole framebuffer on the screen (setting the screen's
        /// mode to this framebuffer's size and format first if needed).
        pub fn present(&self) -> Result<(), String> {
            self.ensure_mode()?;
            wit::present(&self.bytes, None)
        }

        /// Shows only the part of the framebuffer inside `dirty` (cut to
        /// the edges); nothing when it is outside.
        pub fn present_rect(&self, dirty: Rect) -> Result<(), String> {
            self.ensure_mode()?;
            let Some(r) = dirty.intersect(&self.bounds()) else {
                return Ok(());
            };
            let rect = wit::Rect {
                x: r.x as u16,
                y: r.y as u16,
                width: r.width as u16,
                height: r.height as u16,
            };
            wit::present(&self.bytes, Some(rect))
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use host::{mode, set_mode, set_palette};

#[cfg(test)]
mod tests;
