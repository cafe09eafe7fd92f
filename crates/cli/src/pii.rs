//! `schild pii scan FILE…`: finds personal data in text, JSON and CSV files before they are
//! shared, and writes masked copies for logs and exports.
//!
//! Exit status: 0 when nothing was found, 1 when something was, 2 when a file could not be
//! scanned (unreadable, not UTF-8, not the JSON or CSV it claims to be). Matched values are
//! shown masked unless `--show-values` asks for personal data on screen.

use clap::ValueEnum;
use schild_core::pii::structured::{self, MAX_STRUCTURED_BYTES};
use schild_core::pii::{Confidence, Field, Finding, mask_with, scan_text};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Personal-data commands.
#[derive(Debug, clap::Args)]
pub struct PiiArgs {
    #[command(subcommand)]
    command: PiiCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PiiCommand {
    /// Find personal data in files: e-mail addresses, phone numbers, IBANs, card numbers,
    /// BSNs, IP addresses, dates of birth and postal addresses.
    ///
    /// Prints `file:line:column kind confidence value` per finding, the value masked. For JSON
    /// the JSON pointer follows; for CSV the column is the field number and the header follows.
    /// Exits 0 when nothing was found, 1 when something was, 2 on errors.
    Scan(ScanArgs),
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// Files to scan.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// How findings are printed.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,

    /// Write each file's content with its personal data masked to stdout, instead of a list of
    /// findings.
    #[arg(long, conflicts_with_all = ["format", "show_values"])]
    mask: bool,

    /// Report and mask only findings at least this confident (0 to 1).
    #[arg(long, default_value = "0.5", value_parser = parse_confidence, value_name = "X")]
    min_confidence: Confidence,

    /// Print the matched values themselves rather than their masks: personal data on screen.
    #[arg(long)]
    show_values: bool,

    /// Read the files as this format instead of guessing from extension and content.
    #[arg(long = "as", value_enum, default_value_t = InputFormat::Auto, value_name = "FORMAT")]
    input: InputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// One line per finding.
    Text,
    /// A JSON array of findings.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    /// `.json` and `.csv`/`.tsv` by extension, then JSON if the content parses as JSON, else text.
    Auto,
    /// Free text.
    Text,
    /// A JSON document.
    Json,
    /// A CSV file (`,`, `;` or tab separated).
    Csv,
}

fn parse_confidence(value: &str) -> Result<Confidence, String> {
    value
        .parse::<f32>()
        .ok()
        .and_then(Confidence::new)
        .ok_or_else(|| format!("expected a number from 0 to 1, got {value:?}"))
}

/// Runs one personal-data command and turns its outcome into the exit status.
pub fn run(args: PiiArgs) -> ExitCode {
    match args.command {
        PiiCommand::Scan(args) => scan(&args),
    }
}

/// One finding as printed.
struct Row {
    line: u64,
    column: u64,
    finding: Finding,
    /// JSON pointer or CSV header, printed after the value.
    at: Option<String>,
    pointer: Option<String>,
    header: Option<String>,
}

fn scan(args: &ScanArgs) -> ExitCode {
    let mut found = false;
    let mut failed = false;
    let mut report = Vec::new();
    for path in &args.files {
        match scan_file(path, args) {
            Ok(rows) => {
                found |= !rows.is_empty();
                if !args.mask {
                    report.extend(rows.into_iter().map(|row| (path.clone(), row)));
                }
            }
            Err(message) => {
                eprintln!("error: {}: {message}", path.display());
                failed = true;
            }
        }
    }
    if !args.mask {
        print_report(&report, args);
    }
    if failed {
        ExitCode::from(2)
    } else if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Scans one file; with `--mask`, also prints its masked content.
fn scan_file(path: &Path, args: &ScanArgs) -> Result<Vec<Row>, String> {
    let text = read_text(path)?;
    let format = match args.input {
        InputFormat::Auto => guess_format(path, &text),
        other => other,
    };
    let floor = args.min_confidence;
    let rows: Vec<Row> = match format {
        InputFormat::Json => structured::scan_json(&text)
            .map_err(|error| error.to_string())?
            .into_iter()
            .filter_map(|f| match f.field {
                Field::Json {
                    pointer,
                    line,
                    column,
                    ..
                } => Some(Row {
                    line: line as u64,
                    column: column as u64,
                    finding: f.finding,
                    at: Some(pointer.clone()),
                    pointer: Some(pointer),
                    header: None,
                }),
                _ => None,
            })
            .collect(),
        InputFormat::Csv => structured::scan_csv(&text)
            .map_err(|error| error.to_string())?
            .into_iter()
            .filter_map(|f| match f.field {
                Field::Csv {
                    line,
                    column,
                    header,
                    ..
                } => Some(Row {
                    line,
                    column: column as u64,
                    finding: f.finding,
                    at: header.as_ref().map(|h| format!("[{h}]")),
                    pointer: None,
                    header,
                }),
                _ => None,
            })
            .collect(),
        InputFormat::Text | InputFormat::Auto => scan_text(&text)
            .into_iter()
            .map(|finding| Row {
                line: finding.line as u64,
                column: finding.column as u64,
                finding,
                at: None,
                pointer: None,
                header: None,
            })
            .collect(),
    };
    let rows: Vec<Row> = rows
        .into_iter()
        .filter(|row| row.finding.confidence >= floor)
        .collect();
    if args.mask {
        let masked = match format {
            InputFormat::Json => structured::mask_json(&text, floor),
            InputFormat::Csv => structured::mask_csv(&text, floor),
            InputFormat::Text | InputFormat::Auto => Ok(mask_with(&text, floor)),
        }
        .map_err(|error| error.to_string())?;
        print!("{masked}");
    }
    Ok(rows)
}

/// Reads a whole file as UTF-8 text, refusing files larger than the structured-scan limit.
fn read_text(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|error| format!("cannot read it: {error}"))?;
    let limit = MAX_STRUCTURED_BYTES as u64;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read it: {error}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "larger than {} MiB; split it and scan the parts",
            limit / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        format!(
            "not UTF-8 text (invalid byte at offset {}); convert it first, e.g. `iconv -f latin1 -t utf-8`",
            error.utf8_error().valid_up_to()
        )
    })
}

fn guess_format(path: &Path, text: &str) -> InputFormat {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("json") => InputFormat::Json,
        Some("csv" | "tsv") => InputFormat::Csv,
        _ => {
            let trimmed = text.trim_start();
            let looks_like_json = (trimmed.starts_with('{') || trimmed.starts_with('['))
                && serde_json::from_str::<serde_json::Value>(text).is_ok();
            if looks_like_json {
                InputFormat::Json
            } else {
                InputFormat::Text
            }
        }
    }
}

fn print_report(report: &[(PathBuf, Row)], args: &ScanArgs) {
    let value = |finding: &Finding| {
        if args.show_values {
            finding.value().to_owned()
        } else {
            finding.masked()
        }
    };
    match args.format {
        OutputFormat::Text => {
            for (path, row) in report {
                let mut line = format!(
                    "{}:{}:{} {} {} {}",
                    path.display(),
                    row.line,
                    row.column,
                    row.finding.kind,
                    row.finding.confidence,
                    value(&row.finding).replace('\n', "\\n")
                );
                if let Some(at) = &row.at {
                    line.push(' ');
                    line.push_str(at);
                }
                println!("{line}");
            }
        }
        OutputFormat::Json => {
            let findings: Vec<serde_json::Value> = report
                .iter()
                .map(|(path, row)| {
                    let mut object = serde_json::json!({
                        "file": path.display().to_string(),
                        "line": row.line,
                        "column": row.column,
                        "kind": row.finding.kind.as_str(),
                        // Two decimals, as in the text output (an f32 widened to JSON's f64
                        // would print 0.949999988).
                        "confidence": (f64::from(row.finding.confidence.get()) * 100.0).round() / 100.0,
                        "value": value(&row.finding),
                    });
                    if let Some(pointer) = &row.pointer {
                        object["pointer"] = pointer.clone().into();
                    }
                    if let Some(header) = &row.header {
                        object["header"] = header.clone().into();
                    }
                    object
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&findings).unwrap_or_else(|_| "[]".to_owned())
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_the_format() {
        assert_eq!(guess_format(Path::new("a.JSON"), "x"), InputFormat::Json);
        assert_eq!(guess_format(Path::new("a.tsv"), ""), InputFormat::Csv);
        assert_eq!(
            guess_format(Path::new("a.log"), " {\"a\": 1}"),
            InputFormat::Json
        );
        assert_eq!(
            guess_format(Path::new("a.log"), "{not json"),
            InputFormat::Text
        );
        assert_eq!(guess_format(Path::new("notes"), "hello"), InputFormat::Text);
    }

    #[test]
    fn confidence_must_be_between_zero_and_one() {
        assert!(parse_confidence("0.7").is_ok());
        assert!(parse_confidence("1.5").is_err());
        assert!(parse_confidence("NaN").is_err());
        assert!(parse_confidence("high").is_err());
    }
}
