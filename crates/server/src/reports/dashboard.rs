//! The dashboard report: the figures of `GET /api/v1/dashboard` on one page.
//!
//! Layout, top to bottom: the title with the period and the time of generation (UTC); five
//! labelled figures (active sessions, accounts locked, addresses blocked, failed sign-ins in the
//! period, the age of the oldest vault key); failed sign-ins per day as bars; then security keys
//! per model (stacked bars by state) beside active keys by age.

use super::raster::Canvas;
use super::{FAMILY, ImageFormat, ReportError, bundled_font, encode_png, font_ready};
use crate::routes::dashboard::{AgeBucket, Dashboard, DayCount, ModelCount, VaultKeyAge};
use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::RangedCoordu32;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use time::macros::format_description;

/// The page, in pixels (SVG user units).
pub const WIDTH: u32 = 1200;
/// The page, in pixels (SVG user units).
pub const HEIGHT: u32 = 940;

const PAGE_MARGIN: u32 = 28;
const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
const MUTED: RGBColor = RGBColor(0x6b, 0x72, 0x80);
const TILE: RGBColor = RGBColor(0xf3, 0xf4, 0xf6);
const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const FAILED: RGBColor = RGBColor(0xdc, 0x26, 0x26);
const ACTIVE: RGBColor = RGBColor(0x25, 0x63, 0xeb);
const BLOCKED: RGBColor = RGBColor(0xd9, 0x77, 0x06);
const REVOKED: RGBColor = RGBColor(0x9c, 0xa3, 0xaf);
const OVERDUE: RGBColor = RGBColor(0xb9, 0x1c, 0x1c);
/// Key-age buckets from young to old: cool to warm.
const AGE_TONES: [RGBColor; 5] = [
    RGBColor(0x05, 0x96, 0x69),
    RGBColor(0x0d, 0x94, 0x88),
    RGBColor(0x25, 0x63, 0xeb),
    RGBColor(0xd9, 0x77, 0x06),
    RGBColor(0xdc, 0x26, 0x26),
];
/// Models drawn in the keys-per-model chart; the rest are summed into one bar.
const MODELS_SHOWN: usize = 7;

type Drawn = Result<(), ReportError>;

/// Renders the dashboard report in `format`.
pub fn render(figures: &Dashboard, format: ImageFormat) -> Result<Vec<u8>, ReportError> {
    font_ready()?;
    match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
                page(&root, figures)?;
                root.present()?;
            }
            Ok(svg.into_bytes())
        }
        ImageFormat::Png => {
            let mut rgb = vec![0_u8; WIDTH as usize * HEIGHT as usize * 3];
            {
                let root =
                    Canvas::new(&mut rgb, (WIDTH, HEIGHT), bundled_font()?).into_drawing_area();
                page(&root, figures)?;
                root.present()?;
            }
            encode_png(&rgb, WIDTH, HEIGHT)
        }
    }
}

fn text(size: u32, color: &RGBColor) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(color)
}

/// `value` cut with an ellipsis until it is at most `width` pixels wide in `style`.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    value: &str,
    style: &TextStyle<'_>,
    width: u32,
) -> Result<String, ReportError> {
    let mut chars: Vec<char> = value.chars().collect();
    let mut candidate = value.to_owned();
    while area.estimate_text_size(&candidate, style)?.0 > width && !chars.is_empty() {
        chars.pop();
        candidate = chars.iter().collect::<String>().trim_end().to_owned() + "…";
    }
    Ok(candidate)
}

fn page<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figures: &Dashboard) -> Drawn {
    root.fill(&WHITE)?;
    let body = root.margin(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN);
    let (head, rest) = body.split_vertically(84);
    let (tiles, rest) = rest.split_vertically(128);
    let (failed, rest) = rest.split_vertically(330);
    let (models, ages) = rest.split_horizontally(rest.dim_in_pixel().0 / 2);
    title(&head, figures)?;
    figure_tiles(&tiles, figures)?;
    failed_per_day(&failed.margin(16, 0, 0, 0), &figures.failed_sign_ins)?;
    keys_per_model(&models.margin(16, 0, 0, 12), &figures.keys_by_model)?;
    key_ages(&ages.margin(16, 0, 12, 0), &figures.key_age)
}

fn day_count(days: usize) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

/// The report's first and last day, as the title and the tests show them.
fn period(days: &[DayCount]) -> String {
    match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!(
            "Period: {} to {} ({}, UTC)",
            first.day.date(),
            last.day.date(),
            day_count(days.len())
        ),
        _ => "Period: none".to_owned(),
    }
}

fn title<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, figures: &Dashboard) -> Drawn {
    area.draw(&Text::new(
        "Schild security dashboard",
        (0, 0),
        text(30, &INK),
    ))?;
    let generated = figures
        .generated_at
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .map_err(|error| ReportError::Draw(error.to_string()))?;
    area.draw(&Text::new(
        format!(
            "{}  ·  Generated {generated}",
            period(&figures.failed_sign_ins)
        ),
        (0, 46),
        text(16, &MUTED),
    ))?;
    Ok(())
}

/// One labelled figure.
struct Tile {
    label: &'static str,
    value: String,
    note: String,
    alarm: bool,
}

fn figure_tiles<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, figures: &Dashboard) -> Drawn {
    let failed: u64 = figures.failed_sign_ins.iter().map(|day| day.count).sum();
    let tiles = [
        Tile {
            label: "Active sessions",
            value: figures.active_sessions.to_string(),
            note: "signed in, not expired".to_owned(),
            alarm: false,
        },
        Tile {
            label: "Accounts locked now",
            value: figures.locked_accounts.to_string(),
            note: format!("Lockouts in the period: {}", figures.lockouts),
            alarm: false,
        },
        Tile {
            label: "Addresses blocked now",
            value: figures.blocked_ips.to_string(),
            note: format!("Blocks in the period: {}", figures.ip_blocks),
            alarm: false,
        },
        Tile {
            label: "Failed sign-ins",
            value: failed.to_string(),
            note: format!("in {}", day_count(figures.failed_sign_ins.len())),
            alarm: false,
        },
        vault_tile(&figures.vault_keys),
    ];
    let gap = 16;
    let width = (area.dim_in_pixel().0 - gap * (tiles.len() as u32 - 1)) / tiles.len() as u32;
    let height = area.dim_in_pixel().1;
    let mut rest = area.clone();
    for tile in &tiles {
        let (cell, after) = rest.split_horizontally(width + gap);
        rest = after;
        let cell = cell.margin(0, 0, 0, gap);
        cell.draw(&Rectangle::new(
            [(0, 0), (width as i32 - 1, height as i32 - 1)],
            TILE.filled(),
        ))?;
        let inner = width - 28;
        let label = text(15, &MUTED);
        cell.draw(&Text::new(
            fit(&cell, tile.label, &label, inner)?,
            (14, 14),
            label,
        ))?;
        let value = text(38, if tile.alarm { &OVERDUE } else { &INK });
        cell.draw(&Text::new(
            fit(&cell, &tile.value, &value, inner)?,
            (14, 40),
            value,
        ))?;
        let note = text(13, &MUTED);
        cell.draw(&Text::new(
            fit(&cell, &tile.note, &note, inner)?,
            (14, 96),
            note,
        ))?;
    }
    Ok(())
}

/// The vault whose key-encryption key is oldest: its age, and whether a rotation is overdue.
fn vault_tile(keys: &[VaultKeyAge]) -> Tile {
    match keys.iter().max_by_key(|key| key.age_days) {
        Some(key) => Tile {
            label: "Vault key age",
            value: format!("{} d", key.age_days),
            note: format!(
                "{} v{}, due every {} d",
                key.vault, key.version, key.rotation_days
            ),
            alarm: key.age_days >= i64::from(key.rotation_days),
        },
        None => Tile {
            label: "Vault key age",
            value: "–".to_owned(),
            note: "no vault in this database".to_owned(),
            alarm: false,
        },
    }
}

/// A panel title at the top of `area`; returns the area below it.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: &str,
) -> Result<DrawingArea<DB, Shift>, ReportError> {
    let (top, below) = area.split_vertically(32);
    top.draw(&Text::new(heading.to_owned(), (0, 0), text(19, &INK)))?;
    Ok(below)
}

/// A muted note centred in an empty chart's place.
fn empty<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, note: &str) -> Drawn {
    let (width, height) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(0, 0), (width as i32 - 1, height as i32 - 1)],
        TILE.filled(),
    ))?;
    area.draw(&Text::new(
        note.to_owned(),
        (width as i32 / 2, height as i32 / 2),
        text(15, &MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// A category axis of `n` slots, slot `i` spanning `2i..2i + 2` (so its centre is a whole
/// number), labelled at the centres of at most `labels` evenly spread slots. (plotters' segmented
/// axis leaves an empty slot after the last category, and with one category its range collapses
/// to a point.)
fn categories(n: usize, labels: usize) -> WithKeyPoints<RangedCoordu32> {
    let step = n.div_ceil(labels.max(1)).max(1);
    let centres = (0..n).step_by(step).map(centre).collect::<Vec<_>>();
    (0..edge(n.max(1))).with_key_points(centres)
}

/// Where slot `slot` begins (and the one before it ends) on a [`categories`] axis.
fn edge(slot: usize) -> u32 {
    u32::try_from(slot).map_or(u32::MAX, |slot| slot.saturating_mul(2))
}

/// The middle of slot `slot` on a [`categories`] axis.
fn centre(slot: usize) -> u32 {
    edge(slot).saturating_add(1)
}

/// The slot a position on a [`categories`] axis falls in.
fn slot_at(position: u32) -> usize {
    (position / 2) as usize
}

/// A y axis with room above the highest bar for its value label.
fn headroom(max: u64) -> u64 {
    max + max / 6 + 1
}

fn short_day(day: &DayCount) -> String {
    let date = day.day.date();
    let month = date.month().to_string();
    format!("{} {}", date.day(), month.get(..3).unwrap_or(&month))
}

fn failed_per_day<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, days: &[DayCount]) -> Drawn {
    let total: u64 = days.iter().map(|day| day.count).sum();
    let chart_area = panel(
        area,
        &format!(
            "Failed sign-ins per day (UTC): {total} in {}",
            day_count(days.len())
        ),
    )?;
    let max = days.iter().map(|day| day.count).max().unwrap_or(0);
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_right(8)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(categories(days.len(), 15), 0..headroom(max))?;
    let label_day = |at: &u32| days.get(slot_at(*at)).map(short_day).unwrap_or_default();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .x_label_formatter(&label_day)
        .y_labels(6)
        .label_style(text(13, &MUTED))
        .draw()?;
    chart.draw_series(days.iter().enumerate().map(|(index, day)| {
        let mut bar = Rectangle::new(
            [(edge(index), 0), (edge(index + 1), day.count)],
            FAILED.filled(),
        );
        bar.set_margin(0, 0, 2, 2);
        bar
    }))?;
    // Values on the bars while they are wide enough to carry one.
    if days.len() <= 31 {
        chart.draw_series(
            days.iter()
                .enumerate()
                .filter(|(_, day)| day.count > 0)
                .map(|(index, day)| {
                    EmptyElement::at((centre(index), day.count))
                        + Text::new(
                            day.count.to_string(),
                            (0, -4),
                            text(12, &INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )
                }),
        )?;
    }
    Ok(())
}

/// The name a model goes by in the chart: the catalogue's, else the start of its AAGUID.
fn model_label(model: &ModelCount) -> String {
    match &model.model {
        Some(name) => name.clone(),
        None => format!("Unknown model {}", model.aaguid.get(..8).unwrap_or("")),
    }
}

fn keys_per_model<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    models: &[ModelCount],
) -> Drawn {
    let chart_area = panel(area, "Security keys per model")?;
    if models.is_empty() {
        return empty(&chart_area, "No security keys are registered.");
    }
    // (label, active, blocked, revoked), most numerous first, the tail folded into "Other".
    let mut rows: Vec<(String, u64, u64, u64)> = models
        .iter()
        .take(MODELS_SHOWN)
        .map(|m| (model_label(m), m.active, m.blocked, m.revoked))
        .collect();
    if models.len() > MODELS_SHOWN {
        let rest = &models[MODELS_SHOWN..];
        rows.push((
            format!("{} other models", rest.len()),
            rest.iter().map(|m| m.active).sum(),
            rest.iter().map(|m| m.blocked).sum(),
            rest.iter().map(|m| m.revoked).sum(),
        ));
    }
    let (legend, chart_area) = chart_area.split_vertically(26);
    let mut x = 0;
    for (name, color) in [
        ("active", ACTIVE),
        ("blocked", BLOCKED),
        ("revoked", REVOKED),
    ] {
        legend.draw(&Rectangle::new([(x, 3), (x + 12, 15)], color.filled()))?;
        let style = text(13, &MUTED);
        let width = legend.estimate_text_size(name, &style)?.0 as i32;
        legend.draw(&Text::new(name, (x + 18, 2), style))?;
        x += 18 + width + 20;
    }

    let label_width = 190;
    let label_style = text(13, &INK);
    let labels = rows
        .iter()
        .map(|row| fit(&chart_area, &row.0, &label_style, label_width - 12))
        .collect::<Result<Vec<_>, _>>()?;
    let max = rows.iter().map(|r| r.1 + r.2 + r.3).max().unwrap_or(0);
    let count = rows.len();
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_right(12)
        .x_label_area_size(28)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0..headroom(max), categories(count, count))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .x_labels(6)
        .y_label_formatter(&|_| String::new())
        .label_style(text(13, &INK))
        .draw()?;
    // The models' names beside their bars, the first row at the top, cut to fit.
    let (base_x, base_y) = chart_area.get_base_pixel();
    for (index, label) in labels.into_iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0, centre(count - 1 - index)));
        chart_area.draw(&Text::new(
            label,
            (x - base_x - 10, y - base_y),
            text(13, &INK).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    // Bars at most 32 px thick, however few the rows.
    let row_height = chart.plotting_area().dim_in_pixel().1 / u32::try_from(count).unwrap_or(1);
    let inset = (row_height.saturating_sub(32) / 2).max(4);
    for (index, row) in rows.iter().enumerate() {
        let slot = count - 1 - index;
        let segments = [
            (0, row.1, ACTIVE),
            (row.1, row.1 + row.2, BLOCKED),
            (row.1 + row.2, row.1 + row.2 + row.3, REVOKED),
        ];
        chart.draw_series(segments.into_iter().filter(|(from, to, _)| to > from).map(
            |(from, to, color)| {
                let mut bar =
                    Rectangle::new([(from, edge(slot)), (to, edge(slot + 1))], color.filled());
                bar.set_margin(inset, inset, 0, 0);
                bar
            },
        ))?;
        let total = row.1 + row.2 + row.3;
        chart.draw_series(std::iter::once(
            EmptyElement::at((total, centre(slot)))
                + Text::new(
                    total.to_string(),
                    (6, 0),
                    text(12, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
                ),
        ))?;
    }
    Ok(())
}

fn age_label(bucket: &AgeBucket) -> String {
    match bucket.max_days {
        Some(max) => format!("{}–{} d", bucket.min_days, max - 1),
        None => format!("{}+ d", bucket.min_days),
    }
}

fn key_ages<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, buckets: &[AgeBucket]) -> Drawn {
    let chart_area = panel(area, "Age of active security keys")?;
    if buckets.iter().all(|bucket| bucket.count == 0) {
        return empty(&chart_area, "No active security keys.");
    }
    let (_, chart_area) = chart_area.split_vertically(26);
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_right(8)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(categories(buckets.len(), buckets.len()), 0..headroom(max))?;
    let label_bucket = |at: &u32| buckets.get(slot_at(*at)).map(age_label).unwrap_or_default();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .x_label_formatter(&label_bucket)
        .y_labels(5)
        .label_style(text(13, &MUTED))
        .draw()?;
    chart.draw_series(buckets.iter().enumerate().map(|(index, bucket)| {
        let tone = AGE_TONES[index.min(AGE_TONES.len() - 1)];
        let mut bar = Rectangle::new(
            [(edge(index), 0), (edge(index + 1), bucket.count)],
            tone.filled(),
        );
        bar.set_margin(0, 0, 10, 10);
        bar
    }))?;
    chart.draw_series(
        buckets
            .iter()
            .enumerate()
            .filter(|(_, bucket)| bucket.count > 0)
            .map(|(index, bucket)| {
                EmptyElement::at((centre(index), bucket.count))
                    + Text::new(
                        bucket.count.to_string(),
                        (0, -4),
                        text(12, &INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            }),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::dashboard::{AgeBucket, Dashboard, DayCount, ModelCount, VaultKeyAge};
    use time::Duration;
    use time::macros::datetime;

    /// A busy quarter: 90 days of failures, more models than the chart shows (with a long
    /// name), every key state and an overdue vault key.
    fn busy() -> Dashboard {
        let now = datetime!(2026-12-05 09:30:00 UTC);
        let first = datetime!(2026-09-07 00:00:00 UTC);
        let model = |index: u64, name: Option<&str>| ModelCount {
            aaguid: format!("{index:08x}-0000-4000-8000-000000000000"),
            model: name.map(str::to_owned),
            active: 40 - index * 3,
            blocked: index % 3,
            revoked: index % 4,
        };
        Dashboard {
            generated_at: now,
            failed_sign_ins: (0..90_u64)
                .map(|day| DayCount {
                    day: first + Duration::days(day as i64),
                    count: (day * 37) % 23,
                })
                .collect(),
            lockouts: 12,
            ip_blocks: 4,
            locked_accounts: 2,
            blocked_ips: 1,
            active_sessions: 1_234,
            keys_by_model: (0..10)
                .map(|index| match index {
                    0 => model(
                        0,
                        Some("YubiKey 5 Series with NFC and a Lightning connector"),
                    ),
                    1 => model(1, Some("Security Key NFC by Yubico")),
                    other => model(other, None),
                })
                .collect(),
            key_age: [
                (0, Some(30), 14),
                (30, Some(90), 30),
                (90, Some(180), 22),
                (180, Some(365), 9),
                (365, None, 3),
            ]
            .into_iter()
            .map(|(min_days, max_days, count)| AgeBucket {
                min_days,
                max_days,
                count,
            })
            .collect(),
            vault_keys: vec![VaultKeyAge {
                vault: "schild-server".to_owned(),
                name: "Schild backend".to_owned(),
                version: 3,
                since: now - Duration::days(97),
                age_days: 97,
                rotation_days: 90,
            }],
        }
    }

    fn keep(name: &str, bytes: &[u8]) {
        if let Ok(dir) = std::env::var("SCHILD_REPORT_OUT") {
            std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
        }
    }

    #[test]
    fn a_busy_quarter_fits_the_page() {
        let figures = busy();
        let svg = String::from_utf8(render(&figures, ImageFormat::Svg).unwrap()).unwrap();
        keep("busy.svg", svg.as_bytes());
        assert!(svg.contains("Period: 2026-09-07 to 2026-12-05 (90 days, UTC)"));
        assert!(svg.contains("3 other models"), "the tail is folded");
        let cut = "YubiKey 5 Series with NFC and a Lightning connector";
        assert!(!svg.contains(cut), "a long name is cut to fit");
        assert!(svg.contains("YubiKey 5 Series with NFC"), "{svg}");
        assert!(svg.contains('…'), "and says so");
        assert!(svg.contains("\n97 d\n"), "the vault key's age");

        let png = render(&figures, ImageFormat::Png).unwrap();
        keep("busy.png", &png);
        let image = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (WIDTH, HEIGHT));
        // An overdue rotation shows its age in the alarm colour.
        assert!(
            image
                .pixels()
                .any(|pixel| pixel.0 == [OVERDUE.0, OVERDUE.1, OVERDUE.2])
        );
    }

    #[test]
    fn an_empty_database_still_gives_a_page() {
        let mut figures = busy();
        figures.failed_sign_ins = vec![DayCount {
            day: datetime!(2026-12-05 00:00:00 UTC),
            count: 0,
        }];
        figures.keys_by_model.clear();
        figures
            .key_age
            .iter_mut()
            .for_each(|bucket| bucket.count = 0);
        figures.vault_keys.clear();
        let svg = String::from_utf8(render(&figures, ImageFormat::Svg).unwrap()).unwrap();
        keep("empty.svg", svg.as_bytes());
        for expected in [
            "Failed sign-ins per day (UTC): 0 in 1 day",
            "No security keys are registered.",
            "No active security keys.",
            "no vault in this database",
        ] {
            assert!(svg.contains(expected), "{expected}");
        }
        let png = render(&figures, ImageFormat::Png).unwrap();
        keep("empty.png", &png);
    }
}
