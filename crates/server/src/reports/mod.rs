//! Reports: figures drawn into a file an administrator can save, print or mail, by plotters.
//!
//! One image format choice for every report ([`ImageFormat`]): SVG (vector, text stays text) or
//! PNG (pixels, for tools that show no SVG). Text is set in DejaVu Sans, bundled with the binary
//! (`assets/fonts/`, Bitstream Vera licence beside it), so a PNG looks the same on every host
//! and no system font is ever looked up. The SVG names the family `sans-serif` and lets the
//! viewer choose; its layout was measured with DejaVu Sans' metrics.

pub mod dashboard;
mod raster;

use plotters::style::{FontStyle, register_font};
use serde::Deserialize;
use std::sync::OnceLock;
use utoipa::ToSchema;

/// The font family every report's text is set in (the name the bundled font is registered as).
const FAMILY: &str = "sans-serif";
/// DejaVu Sans 2.37 (Debian `fonts-dejavu-core`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The file format of a rendered report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// Scalable vector graphics (`image/svg+xml`).
    #[default]
    Svg,
    /// A PNG image, 8-bit RGB (`image/png`).
    Png,
}

impl ImageFormat {
    /// The media type of a report in this format.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Svg => "image/svg+xml",
            Self::Png => "image/png",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Svg => "svg",
            Self::Png => "png",
        }
    }
}

/// Why a report could not be rendered. None of these is the caller's fault: each is a defect or
/// a resource problem on the server, answered as a 500.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The bundled font did not parse: the binary was built with a damaged font file.
    #[error("the bundled report font is not a valid font")]
    Font,
    /// plotters failed to draw (a layout that does not fit, a backend failure).
    #[error("drawing the report failed: {0}")]
    Draw(String),
    /// The drawn pixels could not be encoded as PNG.
    #[error("encoding the report as PNG failed")]
    Encode(#[from] image::ImageError),
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for ReportError
{
    fn from(error: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        Self::Draw(error.to_string())
    }
}

/// Registers the bundled font with plotters, once per process.
fn font_ready() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(ReportError::Font) }
}

/// The bundled font, for the PNG canvas that sets text itself (`raster`).
fn bundled_font() -> Result<ab_glyph::FontRef<'static>, ReportError> {
    ab_glyph::FontRef::try_from_slice(DEJAVU_SANS).map_err(|_| ReportError::Font)
}

/// Encodes a plotters RGB buffer (`width × height × 3` bytes) as PNG with the workspace's
/// `image` crate; plotters' own encoder would pull a second, older `image` into the build.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_registers() {
        font_ready().unwrap();
        font_ready().unwrap();
        bundled_font().unwrap();
    }

    #[test]
    fn a_png_is_encoded_with_the_asked_size() {
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect();
        let png = encode_png(&rgb, 4, 3).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (4, 3));
        assert_eq!(decoded.into_raw(), rgb);
    }
}
