//! QR codes for offer and wallet links: SVG for pages, PNG for everything else.

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

use crate::Error;

/// Pixels per module in the PNG.
const PNG_SCALE: usize = 8;
/// The quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;

fn code(data: &str) -> Result<QrCode, Error> {
    // Level M: links are long, and M keeps the code small enough to scan from a screen.
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|_| Error::Qr("data too long for a QR code"))
}

/// The QR code of `data` as a standalone SVG document.
pub fn svg(data: &str) -> Result<String, Error> {
    Ok(code(data)?
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The QR code of `data` as an 8-bit greyscale PNG.
pub fn png(data: &str) -> Result<Vec<u8>, Error> {
    let code = code(data)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * PNG_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
        for y in my * PNG_SCALE..(my + 1) * PNG_SCALE {
            let row = y * side;
            pixels[row + mx * PNG_SCALE..row + (mx + 1) * PNG_SCALE].fill(0);
        }
    }
    let side32 = u32::try_from(side).map_err(|_| Error::Qr("image too large"))?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|_| Error::Qr("PNG encoding failed"))?;
    writer
        .write_image_data(&pixels)
        .map_err(|_| Error::Qr("PNG encoding failed"))?;
    writer
        .finish()
        .map_err(|_| Error::Qr("PNG encoding failed"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Fcredential-offer%2Fabc";

    #[test]
    fn svg_is_a_document_with_dark_modules() {
        let s = svg(LINK).unwrap();
        assert!(s.starts_with("<?xml"));
        assert!(s.contains("<svg") && s.contains("</svg>"));
    }

    #[test]
    fn png_decodes_to_the_code_with_its_quiet_zone() {
        let bytes = png(LINK).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let modules = code(LINK).unwrap().width();
        assert_eq!(info.width as usize, (modules + 2 * QUIET) * PNG_SCALE);
        // The quiet zone is white; the top-left finder pattern's corner is dark.
        assert_eq!(buf[0], 255);
        let corner = QUIET * PNG_SCALE;
        assert_eq!(buf[corner * info.width as usize + corner], 0);
    }

    #[test]
    fn overlong_data_is_an_error() {
        assert!(matches!(svg(&"x".repeat(5000)), Err(Error::Qr(_))));
    }
}
