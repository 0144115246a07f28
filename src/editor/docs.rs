//! What each field means, read from the format's own documentation
//! (docs/scenario-format.md): the editor shows the sentence the reference
//! gives, so the two never tell different stories.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const FORMAT: &str = include_str!("../../docs/scenario-format.md");

/// (section, field) → meaning. Sections are the `##` headings' names
/// without backticks: "Top level", "[[host]]", "[[link]]", "[[nat]]",
/// "[settings]", "[[event]]", "[ping]".
fn table() -> &'static BTreeMap<(String, String), String> {
    static TABLE: OnceLock<BTreeMap<(String, String), String>> = OnceLock::new();
    TABLE.get_or_init(|| parse(FORMAT))
}

/// The meaning of `field` in `section`, if the reference has a row for it.
pub fn help(section: &str, field: &str) -> Option<&'static str> {
    table()
        .get(&(section.to_string(), field.to_string()))
        .map(String::as_str)
}

/// Markdown made plain: no backticks, links as their text.
fn plain(cell: &str) -> String {
    let mut out = String::new();
    let mut rest = cell.trim();
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](") else {
            break;
        };
        let Some(end) = rest[open + close..].find(')') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..open + close]);
        rest = &rest[open + close + end + 1..];
    }
    out.push_str(rest);
    out.replace('`', "")
}

/// The field names a table row's first cell gives: "`a`", "`a`, `b`",
/// "`x_initial`, `_factor`" (= x_factor), "`mapping_timeout` (or `timeout`)".
fn names(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, part) in cell.split('`').enumerate() {
        if k % 2 == 0 || part.is_empty() {
            continue;
        }
        let name = match (part.strip_prefix('_'), out.first()) {
            (Some(_), Some(first)) => {
                let stem = first.rsplit_once('_').map_or(first.as_str(), |(s, _)| s);
                format!("{stem}{part}")
            }
            _ => part.to_string(),
        };
        out.push(name);
    }
    out
}

fn parse(text: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.replace('`', "").trim().to_string();
            continue;
        }
        let Some(row) = line.strip_prefix('|') else {
            continue;
        };
        let cells: Vec<&str> = row.trim_end().trim_end_matches('|').split('|').collect();
        if cells.len() < 2 || cells[0].trim_start().starts_with("---") {
            continue;
        }
        let meaning = plain(cells[cells.len() - 1]);
        for name in names(cells[0]) {
            out.entry((section.clone(), name))
                .or_insert_with(|| meaning.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_explains_fields_of_each_section() {
        assert!(help("[[link]]", "loss").unwrap().contains("probability"));
        assert!(
            help("[settings]", "psk")
                .unwrap()
                .contains("pre-shared key")
        );
        assert!(help("[settings]", "responder_retransmit_factor").is_some());
        assert!(help("[settings]", "probe_tries").is_some());
        assert!(help("[[nat]]", "timeout").is_some());
        assert!(
            help("[[host]]", "count")
                .unwrap()
                .contains("many alike hosts")
        );
        assert!(help("Top level", "seed").is_some());
        assert_eq!(
            plain("see [`[settings]`](#settings) here"),
            "see [settings] here"
        );
        assert_eq!(help("[[link]]", "colour"), None);
    }

    #[test]
    fn every_setting_is_in_the_reference() {
        for f in mobike_sim::vocab::settings::setting_fields() {
            assert!(
                help("[settings]", f.key).is_some(),
                "docs/scenario-format.md: {}",
                f.key
            );
        }
    }
}
