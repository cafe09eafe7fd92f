//! The PNG canvas: plotters' RGB bitmap backend with text placed glyph by glyph.
//!
//! plotters 0.3.7 draws `ab_glyph` text without each glyph's left side bearing and from a
//! baseline at half the font size, so letters drift apart ("n ow") and sit high. [`Canvas`]
//! delegates every shape to [`BitMapBackend`] and sets text itself: each glyph at its pen
//! position on one baseline, with kerning, anti-aliased by coverage. Widths come from the same
//! metrics plotters lays out with (`layout_box`), so anchors and fitted labels agree with the SVG.

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::backend::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// Baseline below the top of plotters' text box, in font sizes: where an SVG viewer puts it for
/// the `dy="0.76em"` at `font-size = size / 1.24` that plotters' SVG backend writes.
const BASELINE: f32 = 0.76 / 1.24;

/// An RGB pixel buffer that plotters draws into (see the module documentation).
pub struct Canvas<'a> {
    pixels: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Canvas<'a> {
    /// A canvas over `rgb` (`width × height × 3` bytes) that sets text in `font`.
    pub fn new(rgb: &'a mut [u8], size: (u32, u32), font: FontRef<'static>) -> Self {
        Self {
            pixels: BitMapBackend::with_buffer(rgb, size),
            font,
        }
    }
}

type Drawn = Result<(), DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

impl DrawingBackend for Canvas<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.pixels.get_size()
    }

    fn ensure_prepared(&mut self) -> Drawn {
        self.pixels.ensure_prepared()
    }

    fn present(&mut self) -> Drawn {
        self.pixels.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        self.pixels.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Drawn {
        self.pixels.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn {
        self.pixels.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn {
        self.pixels.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn {
        self.pixels.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Drawn {
        self.pixels.fill_polygon(vert, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Drawn {
        self.pixels.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Drawn {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|error| DrawingErrorKind::FontError(Box::new(error)))?;
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Right => -(max_x - min_x),
            HPos::Center => -(max_x - min_x) / 2,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -(max_y - min_y) / 2,
            VPos::Bottom => -(max_y - min_y),
        };
        let transform = style.transform();
        let size = style.size() as f32;
        let font = self.font.as_scaled(size);
        let mut pen = 0.0_f32;
        let mut previous = None;
        let mut coverage = Vec::new();
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern(previous, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(font.scale(), point(pen, size * BASELINE));
            pen += font.h_advance(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            coverage.clear();
            outline.draw(|x, y, c| {
                coverage.push((
                    bounds.min.x as i32 + x as i32,
                    bounds.min.y as i32 + y as i32,
                    c,
                ));
            });
            for &(x, y, c) in coverage.iter().filter(|(_, _, c)| *c > 0.0) {
                let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
                let shade = BackendColor {
                    alpha: color.alpha * f64::from(c.clamp(0.0, 1.0)),
                    rgb: color.rgb,
                };
                self.pixels.draw_pixel((pos.0 + x, pos.1 + y), shade)?;
            }
        }
        Ok(())
    }
}
