//! The files listed in `[client].assets`, read by name (the path as listed,
//! like "sprites/hero.png"). The page fetched and decoded them before the
//! client's init. Declare `assets` in `[client].capabilities`.

use std::fmt;

/// Why an asset could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetError {
    /// No asset has this name.
    NotFound(String),
    /// The asset is not an image (its bytes are still readable with [`read`]).
    NotAnImage(String),
    /// The page could not decode the image: the name and the reason.
    Undecodable(String, String),
    /// The image is larger than a sprite can be (65535 pixels a side).
    TooLarge(String),
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetError::NotFound(name) => {
                write!(f, "no asset is named {name:?} (list it in [client].assets)")
            }
            AssetError::NotAnImage(name) => write!(f, "asset {name:?} is not an image"),
            AssetError::Undecodable(name, why) => {
                write!(f, "asset {name:?} could not be decoded: {why}")
            }
            AssetError::TooLarge(name) => {
                write!(f, "asset {name:?} is larger than 65535 pixels a side")
            }
        }
    }
}

impl std::error::Error for AssetError {}

#[cfg(target_arch = "wasm32")]
mod host {
    use super::AssetError;
    use crate::bindings::lodge::app0_2::assets as wit;
    use crate::screen::Sprite;

    fn error(name: &str, e: wit::Error) -> AssetError {
        match e {
            wit::Error::NotFound => AssetError::NotFound(name.to_owned()),
            wit::Error::NotAnImage => AssetError::NotAnImage(name.to_owned()),
            wit::Error::Undecodable(why) => AssetError::Undecodable(name.to_owned(), why),
        }
    }

    /// Every asset's name, in the manifest's order.
    pub fn names() -> Vec<String> {
        wit::names()
    }

    /// An asset's bytes, as stored.
    pub fn read(name: &str) -> Result<Vec<u8>, AssetError> {
        wit::read(name).map_err(|e| error(name, e))
    }

    /// An asset's text (lossy UTF-8).
    pub fn read_text(name: &str) -> Result<String, AssetError> {
        read(name).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An image asset (PNG, JPEG, GIF or WebP, decoded by the page) as an
    /// RGBA [`Sprite`] to draw on an RGBA framebuffer.
    pub fn sprite(name: &str) -> Result<Sprite, AssetError> {
        let image = wit::read_image(name).map_err(|e| error(name, e))?;
        let too_large = || AssetError::TooLarge(name.to_owned());
        let width = u16::try_from(image.width).map_err(|_| too_large())?;
        let height = u16::try_from(image.height).map_err(|_| too_large())?;
        Sprite::from_rgba(width, height, image.pixels).ok_or_else(|| {
            AssetError::Undecodable(name.to_owned(), "the pixels do not match the size".into())
        })
    }
}

#[cfg(target_arch = "wasm32")]
pub use host::{names, read, read_text, sprite};
