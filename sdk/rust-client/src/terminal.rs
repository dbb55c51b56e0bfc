//! The text grid the page draws: cells of one character with a foreground
//! and background colour. Coordinates are (column, row) from the top left.

use crate::bindings::lodge::app::terminal as host;

/// A 24-bit colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb::new(0, 0, 0);
    /// White.
    pub const WHITE: Rgb = Rgb::new(255, 255, 255);
    /// A light grey for secondary text.
    pub const GREY: Rgb = Rgb::new(150, 150, 150);
    /// Red.
    pub const RED: Rgb = Rgb::new(230, 80, 80);
    /// Green.
    pub const GREEN: Rgb = Rgb::new(90, 200, 110);
    /// Blue.
    pub const BLUE: Rgb = Rgb::new(90, 150, 240);
    /// Yellow.
    pub const YELLOW: Rgb = Rgb::new(235, 200, 80);

    /// A colour from its components.
    pub const fn new(r: u8, g: u8, b: u8) -> Rgb {
        Rgb { r, g, b }
    }
}

impl From<Rgb> for host::Rgb {
    fn from(c: Rgb) -> Self {
        host::Rgb {
            r: c.r,
            g: c.g,
            b: c.b,
        }
    }
}

/// The grid's size in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

impl From<host::GridSize> for Size {
    fn from(s: host::GridSize) -> Self {
        Size {
            cols: s.cols,
            rows: s.rows,
        }
    }
}

/// The grid's current size; [`Client::on_resize`](crate::Client::on_resize)
/// says when it changes.
pub fn size() -> Size {
    host::size().into()
}

/// Fills every cell with a space on `bg`.
pub fn clear(bg: Rgb) {
    host::clear(bg.into());
}

/// Writes `text` from cell (`col`, `row`) rightwards, one character per
/// cell; text past the right edge is dropped.
pub fn write(col: u16, row: u16, text: &str, fg: Rgb, bg: Rgb) {
    host::write(col, row, text, fg.into(), bg.into());
}

/// Writes `text` centred on `row`.
pub fn write_centered(row: u16, text: &str, fg: Rgb, bg: Rgb) {
    let width = text.chars().count().min(u16::MAX as usize) as u16;
    let col = size().cols.saturating_sub(width) / 2;
    write(col, row, text, fg, bg);
}

/// Fills a rectangle of `cols` × `rows` cells at (`col`, `row`) with spaces on `bg`.
pub fn fill(col: u16, row: u16, cols: u16, rows: u16, bg: Rgb) {
    let line = " ".repeat(cols as usize);
    for r in row..row.saturating_add(rows) {
        write(col, r, &line, bg, bg);
    }
}
