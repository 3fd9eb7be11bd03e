//! Typed property values and their text forms.
//!
//! Parsing is lenient where SDS clients are (booleans `true/false/1/0/yes/no`
//! in any case, a lone `,` as decimal mark from comma-locale .NET clients,
//! dates with or without a zone); writing is canonical (invariant numbers,
//! shortest round-trip doubles, UTC dates), so a download parses back to
//! exactly the stored value.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::geography::Geography;
use crate::schema::EdmType;

/// Longest Edm.String value, in characters.
pub const MAX_STRING_CHARS: usize = 2560;

/// A property value. `Null` is an absent or empty cell of a non-string
/// type; an Edm.String value is never null (an empty cell is `String("")`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    String(String),
    Int64(i64),
    Boolean(bool),
    Double(f64),
    DateTime(Timestamp),
    /// Validated WKT, kept as the uploader wrote it (trimmed).
    Geography(String),
}

/// A [`Value`] borrowed: what the download writers read, whether from a
/// decoded entity or from a row of a query table (which stores columns,
/// not `Value`s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    String(&'a str),
    Int64(i64),
    Double(f64),
    Boolean(bool),
    DateTime(Timestamp),
    Geography(&'a str),
}

/// A UTC instant with nanosecond precision (.NET ticks are 100 ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn from_datetime(datetime: DateTime<Utc>) -> Self {
        Timestamp { seconds: datetime.timestamp(), nanos: datetime.timestamp_subsec_nanos() }
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.seconds, self.nanos).single().unwrap_or_default()
    }

    /// Milliseconds since the Unix epoch (the OData JSON `/Date(ms)/` form).
    pub fn epoch_millis(self) -> i64 {
        self.seconds * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// Parses the ISO 8601 forms SDS clients send: with `Z` or an offset
    /// (converted to UTC), without a zone (taken as UTC, as SDS stores UTC),
    /// a space instead of `T`, or a date alone.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(datetime) = DateTime::parse_from_rfc3339(text) {
            return Some(Self::from_datetime(datetime.with_timezone(&Utc)));
        }
        let normalized = text.replacen(' ', "T", 1);
        if let Ok(datetime) = DateTime::parse_from_rfc3339(&normalized) {
            return Some(Self::from_datetime(datetime.with_timezone(&Utc)));
        }
        let unzoned = normalized.trim_end_matches(['Z', 'z']);
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(unzoned, format) {
                return Some(Self::from_datetime(naive.and_utc()));
            }
        }
        NaiveDate::parse_from_str(unzoned, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|naive| Self::from_datetime(naive.and_utc()))
    }

    /// ISO 8601 UTC with `Z`, and only as many fraction digits as needed.
    pub fn to_iso8601(self) -> String {
        let mut text = self.to_iso8601_unzoned();
        text.push('Z');
        text
    }

    /// ISO 8601 UTC without a zone, as the Atom query feed writes it
    /// (`2010-11-03T23:31:37`, the query-by-ID example), with the fraction
    /// of a second when it is not zero (`2021-03-28T05:06:09.952`), trailing
    /// zeros dropped, as .NET's round-trip form writes it.
    pub fn to_iso8601_unzoned(self) -> String {
        let datetime = self.to_datetime();
        let mut text = datetime.format("%Y-%m-%dT%H:%M:%S").to_string();
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            text.push('.');
            text.push_str(fraction.trim_end_matches('0'));
        }
        text
    }
}

/// Why a cell could not become a value of its declared type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("'{text}' is not a valid {edm_type}")]
    Malformed { edm_type: EdmType, text: String },
    #[error("the string has {chars} characters, more than the limit of {MAX_STRING_CHARS}")]
    StringTooLong { chars: usize },
    #[error("invalid WKT: {0}")]
    Geography(String),
    #[error("the text contains U+{code:04X}, a control character that XML cannot carry")]
    NotXmlCharacter { code: u32 },
    #[error("'{text}' is not a finite Edm.Double (NaN and infinities are not accepted)")]
    NotFinite { text: String },
}

/// Refuses the characters XML 1.0 (§2.2 `Char`) excludes: C0 controls
/// other than tab, line feed and carriage return, U+FFFE and U+FFFF. Every
/// SDS response that carries values can be XML (Atom, the DataSet
/// download), and a document holding one of these is not well-formed, so
/// such a value fails its row at load, with this reason, as a control
/// character in an entity ID does.
pub fn check_xml_chars(text: &str) -> Result<(), ValueError> {
    // Fast path: the excluded characters are bytes below 0x20 or start with 0xEF.
    if !text.bytes().any(|byte| byte < 0x20 || byte == 0xEF) {
        return Ok(());
    }
    match text.chars().find(|&c| !is_xml_char(c)) {
        Some(c) => Err(ValueError::NotXmlCharacter { code: u32::from(c) }),
        None => Ok(()),
    }
}

/// Whether XML 1.0 (§2.2 `Char`) allows the character in a document.
pub fn is_xml_char(c: char) -> bool {
    !matches!(c, '\0'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

impl Value {
    /// Types a cell. For Edm.String, empty text is the empty string (the
    /// query-by-ID example returns such a value as `""`, never null); for
    /// every other type, empty text (after trimming) is null. Text with a
    /// character XML 1.0 cannot carry is refused (see [`check_xml_chars`]).
    /// An Edm.Double must be finite: `NaN`, `INF`, `-INF` (XSD's spellings)
    /// and numbers beyond ±1.8e308 (`1e309`) are refused with
    /// [`ValueError::NotFinite`]. JSON cannot carry them, SDS documented none,
    /// and a stored NaN would answer `null` in JSON yet never match `eq null`.
    pub fn parse(edm_type: EdmType, text: &str) -> Result<Value, ValueError> {
        let malformed = || ValueError::Malformed { edm_type, text: excerpt(text) };
        if edm_type == EdmType::String {
            let chars = text.chars().count();
            if chars > MAX_STRING_CHARS {
                return Err(ValueError::StringTooLong { chars });
            }
            check_xml_chars(text)?;
            return Ok(Value::String(text.to_owned()));
        }
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(Value::Null);
        }
        match edm_type {
            EdmType::String => unreachable!("handled above"),
            EdmType::Int64 => trimmed.parse::<i64>().map(Value::Int64).map_err(|_| malformed()),
            EdmType::Double => match parse_double(trimmed) {
                Some(number) if number.is_finite() => Ok(Value::Double(number)),
                Some(_) => Err(ValueError::NotFinite { text: excerpt(trimmed) }),
                None => Err(malformed()),
            },
            EdmType::Boolean => parse_boolean(trimmed).map(Value::Boolean).ok_or_else(malformed),
            EdmType::DateTime => Timestamp::parse(trimmed).map(Value::DateTime).ok_or_else(malformed),
            EdmType::Geography => Geography::parse(trimmed)
                .map(|_| Value::Geography(trimmed.to_owned()))
                .map_err(|error| ValueError::Geography(error.to_string())),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(number) => Some(*number),
            Value::Int64(number) => Some(*number as f64),
            _ => None,
        }
    }

    /// The value borrowed.
    pub fn borrowed(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::String(text) => ValueRef::String(text),
            Value::Int64(number) => ValueRef::Int64(*number),
            Value::Boolean(flag) => ValueRef::Boolean(*flag),
            Value::Double(number) => ValueRef::Double(*number),
            Value::DateTime(timestamp) => ValueRef::DateTime(*timestamp),
            Value::Geography(text) => ValueRef::Geography(text),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) | Value::Geography(text) => Some(text),
            _ => None,
        }
    }
}

/// The canonical text form, as downloads write it; `Null` is empty.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::String(text) | Value::Geography(text) => f.write_str(text),
            Value::Int64(number) => f.write_str(NumberText::default().int(*number)),
            Value::Boolean(flag) => f.write_str(if *flag { "true" } else { "false" }),
            Value::Double(number) => write_double(f, *number),
            Value::DateTime(timestamp) => f.write_str(&timestamp.to_iso8601()),
        }
    }
}

/// Rust's `Display` for `f64` is the shortest text that parses back to the
/// same number and never uses an exponent; XSD spells the specials its own way.
fn write_double(f: &mut fmt::Formatter<'_>, number: f64) -> fmt::Result {
    f.write_str(NumberText::default().double(number))
}

/// Scratch space that spells numbers exactly as [`Value`]'s `Display` does
/// (`Int64` in decimal; `Double` as Rust's `Display` for `f64`, the
/// shortest text that reads back the same number, never with an exponent;
/// `NaN`, `INF` and `-INF` as XSD spells them) without allocating, for
/// writers of millions of values. Doubles go through `ryu` (shortest
/// digits) and fall back to `Display` when `ryu` would use an exponent
/// (|x| ≥ 1e16 or < 1e-5) or needs more than 15 significant digits: up
/// to 15, the shortest text is unique (any decimal of 15 digits survives
/// a trip through `f64`), beyond, the two may pick different texts of
/// the same length.
#[derive(Default)]
pub struct NumberText {
    ryu: ryu::Buffer,
    itoa: itoa::Buffer,
    decimal: [u8; 24],
    fallback: String,
}

impl NumberText {
    pub fn int(&mut self, number: i64) -> &str {
        self.itoa.format(number)
    }

    pub fn double(&mut self, number: f64) -> &str {
        if number.is_nan() {
            return "NaN";
        }
        if number.is_infinite() {
            return if number > 0.0 { "INF" } else { "-INF" };
        }
        if let Some(length) = short_decimal(number, &mut self.decimal) {
            // Only ASCII digits, `-` and `.` were written.
            return std::str::from_utf8(&self.decimal[..length]).unwrap_or_default();
        }
        let text = self.ryu.format_finite(number);
        if text.contains('e') || significant_digits(text) > 15 {
            use std::fmt::Write as _;
            self.fallback.clear();
            let _ = write!(self.fallback, "{number}");
            return &self.fallback;
        }
        // `ryu` spells whole numbers `1.0`; `Display` spells them `1`.
        text.strip_suffix(".0").unwrap_or(text)
    }
}

/// Powers of ten up to 10^15, each exact in an `f64`.
const POWERS_OF_TEN: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// The text [`NumberText::double`] gives `number` when that is a decimal of
/// at most 15 significant digits with 0.001 ≤ |number| < 10^15 (the
/// coordinates and measures of almost every data source), written into
/// `out`; its length, or `None` for every other number.
///
/// Why not `ryu` alone: the shortest digits of such a number are found
/// here with one multiplication, one division and a few divisions by 10,
/// where `ryu` runs its general algorithm and the caller then scans its
/// text; doubles were a sixth of a GeoJSON download's formatting time.
///
/// How it is exact: with `d` decimals chosen so that |number| × 10^d <
/// 10^15, rounding |number| × 10^d to an integer lands on the shortest
/// decimal's digits (scaled) whenever that decimal has at most `d`
/// decimals, as the two rounding errors (reading that decimal into an
/// `f64`, and the multiplication) are each under 0.12 there; trailing
/// zeros are dropped; and the candidate is kept only if the division
/// `digits / 10^decimals`, correctly rounded as a parse is, gives back
/// `number`. A decimal that reads back `number` with fewer decimals would
/// have fewer digits than the shortest, so the candidate, when kept, is
/// the shortest; and at most one decimal of that length reads back
/// `number` (their spacing, 10^-d, exceeds an `f64`'s there), so it is
/// the one `ryu` picks.
fn short_decimal(number: f64, out: &mut [u8; 24]) -> Option<usize> {
    let magnitude = number.abs();
    if !(1e-3..1e15).contains(&magnitude) {
        return None;
    }
    let integer_digits = (magnitude as u64).checked_ilog10().map_or(0, |log| log as usize + 1);
    let mut decimals = 15 - integer_digits;
    // Rounded half up (`round` is a libm call here), below 2^53 and exact.
    let mut digits = (magnitude * POWERS_OF_TEN[decimals] + 0.5) as i64;
    // Trailing zeros dropped 8, 4, 2 and 1 at a time (coordinates have
    // about 8 here), never past the decimal point.
    for (zeros, power) in [(8, 100_000_000), (4, 10_000), (2, 100), (1, 10)] {
        if decimals >= zeros && digits % power == 0 {
            digits /= power;
            decimals -= zeros;
        }
    }
    if digits as f64 / POWERS_OF_TEN[decimals] != magnitude {
        return None;
    }
    let mut text = itoa::Buffer::new();
    let text = text.format(digits).as_bytes();
    let mut length = 0;
    let mut put = |bytes: &[u8]| {
        out[length..length + bytes.len()].copy_from_slice(bytes);
        length += bytes.len();
    };
    if number < 0.0 {
        put(b"-");
    }
    if decimals == 0 {
        put(text);
    } else if text.len() > decimals {
        let (whole, fraction) = text.split_at(text.len() - decimals);
        put(whole);
        put(b".");
        put(fraction);
    } else {
        put(b"0.");
        for _ in text.len()..decimals {
            put(b"0");
        }
        put(text);
    }
    Some(length)
}

/// Digits of a plain decimal (`-0.00123` has 3), not counting leading zeros.
fn significant_digits(text: &str) -> usize {
    let digits = text.bytes().filter(u8::is_ascii_digit);
    digits.skip_while(|digit| *digit == b'0').count()
}

/// Invariant-culture doubles, plus a lone `,` decimal mark (a .NET client in
/// a comma locale writes `47,64`) and the XSD specials.
pub fn parse_double(text: &str) -> Option<f64> {
    match text {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let looks_numeric = text.bytes().all(|b| b.is_ascii_digit() || b"+-.,eE".contains(&b));
    if !looks_numeric || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(number) = text.parse::<f64>() {
        return Some(number);
    }
    if text.matches(',').count() == 1 && !text.contains('.') {
        return text.replace(',', ".").parse::<f64>().ok();
    }
    None
}

pub fn parse_boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A bounded excerpt of user text for error messages.
pub fn excerpt(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() <= LIMIT {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(LIMIT).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_text_spells_doubles_as_display_does() {
        let mut text = NumberText::default();
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e15,
            1e16,
            123456789012345680.0,
            1e-5,
            9.9e-6,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            42.57952,
            -122.25,
        ];
        for number in specials {
            assert_eq!(text.double(number), number.to_string(), "{number:e}");
        }
        assert_eq!(text.double(f64::NAN), "NaN");
        assert_eq!(text.double(f64::NEG_INFINITY), "-INF");
        // Random bit patterns (every magnitude) and coordinates with few
        // decimals (what inputs hold).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..300_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let number = f64::from_bits(state);
            if number.is_finite() {
                assert_eq!(text.double(number), number.to_string(), "{number:e}");
            }
            let coordinate = (state % 36_000_000) as f64 / 100_000.0 - 180.0;
            assert_eq!(text.double(coordinate), coordinate.to_string());
        }
        assert_eq!(text.int(i64::MIN), i64::MIN.to_string());
    }

    #[test]
    fn finding_4_empty_cells_are_empty_strings_and_null_for_other_types() {
        for edm_type in EdmType::ALL {
            let expected = if edm_type == EdmType::String { Value::String(String::new()) } else { Value::Null };
            assert_eq!(Value::parse(edm_type, "").unwrap(), expected, "{edm_type}");
        }
        assert_eq!(Value::parse(EdmType::Int64, "  ").unwrap(), Value::Null);
        assert_eq!(Value::parse(EdmType::String, "  ").unwrap(), Value::String("  ".into()));
    }

    #[test]
    fn finding_11_text_xml_cannot_carry_is_refused() {
        for (text, code) in
            [("a\u{1}b", 1), ("\u{1b}[31m", 0x1B), ("nul\0", 0), ("x\u{FFFE}", 0xFFFE), ("\u{FFFF}", 0xFFFF)]
        {
            assert_eq!(Value::parse(EdmType::String, text), Err(ValueError::NotXmlCharacter { code }), "{text:?}");
        }
        let error = Value::parse(EdmType::String, "a\u{1}").unwrap_err().to_string();
        assert!(error.contains("U+0001"), "{error}");
        // Tab, line feed, carriage return and the other characters XML allows stay.
        for text in ["a\tb\nc\rd", "\u{7F}\u{85}\u{9F}", "\u{FFFD}\u{EFFF}", "Zürich ☕ \u{1F600}"] {
            assert_eq!(Value::parse(EdmType::String, text), Ok(Value::String(text.into())), "{text:?}");
        }
    }

    #[test]
    fn strings_are_kept_byte_exact_and_bounded() {
        let text = " Zürich | \"quoted\" ";
        assert_eq!(Value::parse(EdmType::String, text).unwrap(), Value::String(text.into()));
        let long = "é".repeat(MAX_STRING_CHARS + 1);
        assert!(matches!(
            Value::parse(EdmType::String, &long),
            Err(ValueError::StringTooLong { chars }) if chars == MAX_STRING_CHARS + 1
        ));
        assert!(Value::parse(EdmType::String, &"é".repeat(MAX_STRING_CHARS)).is_ok());
    }

    #[test]
    fn numbers_parse_invariant_and_comma_locale() {
        assert_eq!(Value::parse(EdmType::Double, "47.64").unwrap(), Value::Double(47.64));
        assert_eq!(Value::parse(EdmType::Double, "47,64").unwrap(), Value::Double(47.64));
        assert_eq!(Value::parse(EdmType::Double, "-1.5e3").unwrap(), Value::Double(-1500.0));
        assert!(Value::parse(EdmType::Double, "1,000.5").is_err());
        assert!(Value::parse(EdmType::Double, "abc").is_err());
    }

    /// Tryout F6: one rule for non-finite doubles, whatever their spelling.
    #[test]
    fn tryout_f6_non_finite_doubles_are_refused() {
        for text in ["NaN", "INF", "+INF", "-INF", "1e309", "-1e309", "1,5e400"] {
            assert_eq!(Value::parse(EdmType::Double, text), Err(ValueError::NotFinite { text: text.into() }), "{text}");
        }
        for text in ["Infinity", "-Infinity", "inf", "nan"] {
            assert!(matches!(Value::parse(EdmType::Double, text), Err(ValueError::Malformed { .. })), "{text}");
        }
        assert_eq!(Value::parse(EdmType::Double, "1.7976931348623157e308").unwrap(), Value::Double(f64::MAX));
        assert_eq!(Value::parse(EdmType::Double, "1e-400").unwrap(), Value::Double(0.0));
        assert_eq!(Value::parse(EdmType::Int64, " 42 ").unwrap(), Value::Int64(42));
        assert!(Value::parse(EdmType::Int64, "4.2").is_err());
        assert!(Value::parse(EdmType::Int64, "99999999999999999999").is_err());
    }

    #[test]
    fn booleans_accept_what_clients_write() {
        for (text, expected) in [("True", true), ("FALSE", false), ("1", true), ("0", false), ("yes", true)] {
            assert_eq!(Value::parse(EdmType::Boolean, text).unwrap(), Value::Boolean(expected));
        }
        assert!(Value::parse(EdmType::Boolean, "2").is_err());
    }

    #[test]
    fn dates_normalize_to_utc_and_round_trip() {
        let with_ticks = Value::parse(EdmType::DateTime, "2010-11-03T23:31:37.1234567Z").unwrap();
        assert_eq!(with_ticks.to_string(), "2010-11-03T23:31:37.1234567Z");
        let offset = Value::parse(EdmType::DateTime, "2010-11-03T15:31:37-08:00").unwrap();
        assert_eq!(offset.to_string(), "2010-11-03T23:31:37Z");
        let unzoned = Value::parse(EdmType::DateTime, "2010-11-03T23:31:37").unwrap();
        assert_eq!(unzoned, offset);
        let date_only = Value::parse(EdmType::DateTime, "2010-11-03").unwrap();
        assert_eq!(date_only.to_string(), "2010-11-03T00:00:00Z");
        assert!(Value::parse(EdmType::DateTime, "yesterday").is_err());
        for value in [with_ticks, offset, date_only] {
            assert_eq!(Value::parse(EdmType::DateTime, &value.to_string()).unwrap(), value);
        }
    }

    #[test]
    fn finding_8_unzoned_dates_keep_a_non_zero_fraction() {
        let with_fraction = Timestamp::parse("2021-03-28T05:06:09.952Z").unwrap();
        assert_eq!(with_fraction.to_iso8601_unzoned(), "2021-03-28T05:06:09.952");
        let ticks = Timestamp::parse("2010-11-11T01:19:36.4350494Z").unwrap();
        assert_eq!(ticks.to_iso8601_unzoned(), "2010-11-11T01:19:36.4350494");
        let whole = Timestamp::parse("2010-11-03T23:31:37Z").unwrap();
        assert_eq!(whole.to_iso8601_unzoned(), "2010-11-03T23:31:37");
        for timestamp in [with_fraction, ticks, whole] {
            assert_eq!(Timestamp::parse(&timestamp.to_iso8601_unzoned()), Some(timestamp));
        }
    }

    /// `NumberText::double` without its fast path, for comparison.
    fn double_through_ryu(number: f64) -> String {
        let text = ryu::Buffer::new().format_finite(number).to_owned();
        if text.contains('e') || significant_digits(&text) > 15 {
            return format!("{number}");
        }
        text.strip_suffix(".0").unwrap_or(&text).to_owned()
    }

    #[test]
    fn the_short_decimal_path_spells_doubles_as_ryu_does() {
        // A fixed sequence (xorshift), so a failure repeats.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut numbers = vec![
            0.001,
            -0.001,
            0.000_999_999_999_999_9,
            1.0,
            -1.0,
            0.1,
            0.2 + 0.1,
            1e14,
            999_999_999_999_999.0,
            99_999_999_999_999.9,
            0.999_999_999_999_999_9,
            47.64,
            -122.33,
            42.50729,
            1.53414,
            123_456.789_012_345,
        ];
        for _ in 0..200_000 {
            let random = next();
            // Decimals as a data source holds them: 1 to 17 digits, 0 to 12 decimals.
            let digits = 10u64.pow((random % 17) as u32 + 1);
            let text = format!("{}", next() % digits);
            let decimals = (random >> 8) as usize % 13;
            let text = if decimals < text.len() {
                format!("{}.{}", &text[..text.len() - decimals], &text[text.len() - decimals..])
            } else {
                format!("0.{}{text}", "0".repeat(decimals - text.len()))
            };
            let number: f64 = text.parse().unwrap();
            numbers.push(if random & 1 == 0 { number } else { -number });
            // And any double at all.
            numbers.push(f64::from_bits(next()));
        }
        let mut fast = 0;
        for number in numbers.into_iter().filter(|number| number.is_finite()) {
            let mut out = [0u8; 24];
            if let Some(length) = short_decimal(number, &mut out) {
                fast += 1;
                assert_eq!(std::str::from_utf8(&out[..length]).unwrap(), double_through_ryu(number), "{number:e}");
            }
            assert_eq!(NumberText::default().double(number), double_through_ryu(number), "{number:e}");
        }
        // The path is taken for most decimals of a data source's kind.
        assert!(fast > 100_000, "{fast}");
    }

    #[test]
    fn doubles_write_shortest_round_trip_text() {
        for number in [0.1, 47.64, -122.33, 1e21, 5e-324, 123_456_789.123_456_79] {
            let text = Value::Double(number).to_string();
            assert!(!text.contains('e'), "{text}");
            assert_eq!(text.parse::<f64>().unwrap(), number);
        }
    }
}
