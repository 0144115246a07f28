//! Durations as people write them in scenario files: "250ms", "1.5s",
//! "2min", "20us".

use crate::Time;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A span of virtual time, written as a number and a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub Time);

impl Dur {
    /// The span in microseconds.
    pub fn micros(self) -> Time {
        self.0
    }

    /// Parses `<number><unit>` with unit us, ms, s or min; the number may
    /// have a fractional part ("1.5s").
    pub fn parse(text: &str) -> Result<Dur, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("duration {text:?} has no unit: write e.g. \"500ms\" or \"2s\"")
            })?;
        let (num, unit) = t.split_at(split);
        let value: f64 = num
            .parse()
            .map_err(|_| format!("duration {text:?}: {num:?} is not a number"))?;
        let scale = match unit.trim() {
            "us" | "µs" => 1.0,
            "ms" => 1_000.0,
            "s" => 1_000_000.0,
            "min" => 60_000_000.0,
            other => {
                return Err(format!(
                    "duration {text:?}: unknown unit {other:?} (use us, ms, s or min)"
                ));
            }
        };
        let micros = value * scale;
        if !micros.is_finite() || !(0.0..=1e15).contains(&micros) {
            return Err(format!("duration {text:?} is out of range"));
        }
        Ok(Dur(micros.round() as Time))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us.is_multiple_of(60_000_000) && us > 0 {
            write!(f, "{}min", us / 60_000_000)
        } else if us.is_multiple_of(1_000_000) {
            write!(f, "{}s", us / 1_000_000)
        } else if us.is_multiple_of(1_000) {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{us}us")
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let s = String::deserialize(d)?;
        Dur::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions() {
        assert_eq!(Dur::parse("250ms"), Ok(Dur(250_000)));
        assert_eq!(Dur::parse("1.5s"), Ok(Dur(1_500_000)));
        assert_eq!(Dur::parse("2min"), Ok(Dur(120_000_000)));
        assert_eq!(Dur::parse("20us"), Ok(Dur(20)));
        assert!(Dur::parse("5").unwrap_err().contains("no unit"));
        assert!(Dur::parse("5 hours").unwrap_err().contains("unknown unit"));
        assert!(Dur::parse("1e400s").is_err());
        assert_eq!(Dur(1_500_000).to_string(), "1500ms");
        assert_eq!(Dur(3_000_000).to_string(), "3s");
    }
}
