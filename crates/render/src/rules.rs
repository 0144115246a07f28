//! The text of the conformance checklist: what each checklist id the
//! protocol cites (`M-3.7-5`, `B-3.5-11`, `I-2.11-2`, `U-4-2`) requires, in
//! the words of the protocol reference's §2.14 table, so the page can show
//! a rule next to the decision or message that follows it.
//!
//! The table lives in the repository (`rules.tsv`, compiled in) because the
//! page and its tests must not depend on anything outside it. Any citation
//! string — a [`mobike_protocol::reason::Rule`], a chart note's rule, a
//! reason the inspector derives — is turned into its ids and their texts by
//! [`cited`].

use mobike_protocol::reason::checklist_ids;
use std::sync::OnceLock;

/// The checklist as tab-separated lines: id, keyword, requirement, section.
const TABLE: &str = include_str!("rules.tsv");

/// One requirement of the checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleText {
    /// `"M-3.7-5"`.
    pub id: &'static str,
    /// The BCP 14 keyword (`"MUST"`, `"SHOULD / MAY"`), or `None` for
    /// behaviour the RFC states without one (the `B-` ids and a few more).
    pub keyword: Option<&'static str>,
    /// What is required, in the reference's words.
    pub requirement: &'static str,
    /// The section(s) of the RFC, as the table gives them: `"3.7, 4.2.5"`.
    pub section: &'static str,
}

impl RuleText {
    /// The RFC the id belongs to: `M-` and `B-` ids RFC 4555, `I-` ids
    /// RFC 7296 (whose text the reference quotes from RFC 5996, the same
    /// wording), `U-` ids RFC 3948.
    pub fn rfc(&self) -> &'static str {
        match self.id.as_bytes().first() {
            Some(b'M' | b'B') => "RFC 4555",
            Some(b'I') => "RFC 7296",
            Some(b'U') => "RFC 3948",
            _ => "",
        }
    }

    /// "RFC 4555 §3.7, §4.2.5".
    pub fn source(&self) -> String {
        let sections: Vec<String> = self
            .section
            .split(", ")
            .map(|s| {
                if s.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("§{s}")
                } else {
                    s.to_string()
                }
            })
            .collect();
        format!("{} {}", self.rfc(), sections.join(", "))
    }
}

/// Why a line of the table could not be read (only a broken data file has
/// one; a test reads the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableError {
    pub line: usize,
    pub message: &'static str,
}

/// Reads the table: one requirement a line, `#` lines and blank lines
/// skipped; each id must be a checklist id and appear once.
fn parse(text: &'static str) -> Result<Vec<RuleText>, TableError> {
    let mut out: Vec<RuleText> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let err = |message| TableError {
            line: i + 1,
            message,
        };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&'static str> = line.split('\t').collect();
        let [id, keyword, requirement, section] = f[..] else {
            return Err(err("not four tab-separated fields"));
        };
        if checklist_ids(id) != [id] {
            return Err(err("the first field is not a checklist id"));
        }
        if requirement.is_empty() || section.is_empty() {
            return Err(err("empty requirement or section"));
        }
        if out.iter().any(|r| r.id == id) {
            return Err(err("the id appears twice"));
        }
        out.push(RuleText {
            id,
            keyword: (keyword != "-" && !keyword.is_empty()).then_some(keyword),
            requirement,
            section,
        });
    }
    Ok(out)
}

/// Every requirement of the checklist, in the reference's order. Empty only
/// if the compiled-in table were broken (a test rules that out).
pub fn all() -> &'static [RuleText] {
    static RULES: OnceLock<Vec<RuleText>> = OnceLock::new();
    RULES.get_or_init(|| parse(TABLE).unwrap_or_default())
}

/// The requirement with checklist id `id` ("M-3.7-5").
pub fn lookup(id: &str) -> Option<&'static RuleText> {
    all().iter().find(|r| r.id == id)
}

/// One checklist id of a citation, with its text when the table has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cited<'a> {
    pub id: &'a str,
    pub text: Option<&'static RuleText>,
}

/// The checklist ids in a citation ("RFC 4555 §3.7 (M-3.7-1)", "RFC 7296
/// §2.1, I-2.1-6"), each once, in order, with its text. A citation without
/// ids ("RFC 5685") gives none; an id the table lacks has `text: None`.
pub fn cited(citation: &str) -> Vec<Cited<'_>> {
    let mut out: Vec<Cited> = Vec::new();
    for id in checklist_ids(citation) {
        if !out.iter().any(|c| c.id == id) {
            out.push(Cited {
                id,
                text: lookup(id),
            });
        }
    }
    out
}

/// A checklist id with its text, ready to show: what a view lists under a
/// citation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleLine {
    /// `"M-3.7-5"`.
    pub id: String,
    /// `"MUST"`; empty for behaviour stated without a keyword.
    pub keyword: String,
    /// The requirement, or a remark that the checklist lacks the id.
    pub requirement: String,
    /// "RFC 4555 §3.7, §4.2.5"; empty for an unknown id.
    pub source: String,
    /// The checklist has the id.
    pub known: bool,
}

/// Every checklist id of a citation as a [`RuleLine`], in order.
pub fn rule_lines(citation: &str) -> Vec<RuleLine> {
    cited(citation)
        .into_iter()
        .map(|c| match c.text {
            Some(t) => RuleLine {
                id: c.id.to_string(),
                keyword: t.keyword.unwrap_or_default().to_string(),
                requirement: t.requirement.to_string(),
                source: t.source(),
                known: true,
            },
            None => RuleLine {
                id: c.id.to_string(),
                keyword: String::new(),
                requirement: "not in the conformance checklist".to_string(),
                source: String::new(),
                known: false,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_protocol::reason::{Cookie2Exchange, DeleteReason, MoveReason, Note};
    use std::path::Path;

    #[test]
    fn the_table_reads_whole() {
        let rules = parse(TABLE).expect("the table reads");
        assert_eq!(rules.len(), 91, "the checklist has 91 ids");
        assert_eq!(all().len(), 91);
        let c = lookup("M-3.7-5").unwrap();
        assert_eq!(c.keyword, Some("MUST"));
        assert_eq!(
            c.requirement,
            "Recipient copies COOKIE2 as-is into response"
        );
        assert_eq!(c.source(), "RFC 4555 §3.7, §4.2.5");
        let b = lookup("B-3.5-11").unwrap();
        assert_eq!(b.keyword, None);
        assert_eq!(lookup("I-2.11-2").unwrap().rfc(), "RFC 7296");
        assert_eq!(lookup("U-4-2").unwrap().source(), "RFC 3948 §4");
        assert_eq!(
            lookup("M-5.3-1").unwrap().source(),
            "RFC 4555 §5.3 (refs RFC 7296 §2.21)"
        );
        assert_eq!(lookup("M-3.7-10"), None);
    }

    #[test]
    fn broken_tables_are_refused_not_half_read() {
        assert_eq!(
            parse("M-3.1-1\tMUST\tx").unwrap_err().message,
            "not four tab-separated fields"
        );
        assert_eq!(
            parse("# c\nnot-an-id\tMUST\tx\t3.1").unwrap_err(),
            TableError {
                line: 2,
                message: "the first field is not a checklist id"
            }
        );
        assert!(parse("M-3.1-1\tMUST\tx\t3.1\nM-3.1-1\tMUST\ty\t3.1").is_err());
    }

    #[test]
    fn citations_become_ids_with_their_text() {
        let c = cited("RFC 4555 §3.5 (B-3.5-15), §3.6 (B-3.6-3); again B-3.5-15");
        let ids: Vec<&str> = c.iter().map(|c| c.id).collect();
        assert_eq!(ids, ["B-3.5-15", "B-3.6-3"]);
        assert!(c.iter().all(|c| c.text.is_some()));
        assert!(cited("RFC 5685 (REDIRECTED_FROM)").is_empty());
        assert_eq!(cited("M-3.7-10")[0].text, None);
        let lines = rule_lines("RFC 3948 §4 (U-4-2), M-3.7-10");
        assert_eq!(lines[0].keyword, "SHOULD / MAY");
        assert_eq!(lines[0].source, "RFC 3948 §4");
        assert!(lines[0].known && !lines[1].known);
    }

    /// The part of a Rust source file before its test module.
    fn without_tests(text: &str) -> &str {
        text.split("#[cfg(test)]").next().unwrap_or(text)
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every checklist id the protocol cites — in a rule of a `Note`,
    /// `MoveReason` or `DeleteReason`, or in a doc comment naming the rule a
    /// function implements — and every id this crate cites has its text.
    #[test]
    fn every_id_the_code_cites_is_in_the_table() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["protocol/src", "sim/src", "render/src"] {
            rust_files(&root.join(dir), &mut files);
        }
        let mut seen = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            for id in checklist_ids(without_tests(&text)) {
                assert!(
                    lookup(id).is_some(),
                    "{id} (cited in {f:?}) is not in the table"
                );
                seen += 1;
            }
        }
        assert!(
            seen > 100,
            "{seen} citations found: the scan reads the sources"
        );
        // And through the types, for the rules whose text carries ids.
        let a = "192.0.2.1".parse().unwrap();
        let s = "192.0.2.1:4500".parse().unwrap();
        let rules = [
            Note::InitRetry {
                attempt: 1,
                from: a,
            }
            .rule(),
            Note::FollowingRebinding { from: s, to: s }.rule(),
            Note::ProbingStarted { sends: 2, pairs: 2 }.rule(),
            Note::CheckingReturnRoutability { address: s }.rule(),
            Note::NatHintUpdate.rule(),
            Note::NatHintCheck.rule(),
            Note::NatMappingChanged.rule(),
            Note::EspElsewhere {
                src: a,
                dst: a,
                sa_remote: a,
                sa_local: a,
            }
            .rule(),
            MoveReason::ListAnsweredElsewhere.rule(),
            MoveReason::PathTestAnsweredElsewhere.rule(),
            DeleteReason::Cookie2Mismatch(Cookie2Exchange::Liveness).rule(),
            DeleteReason::NoResponse {
                what: "x",
                mid: 1,
                retransmissions: 3,
            }
            .rule(),
            DeleteReason::NatRetriesExhausted.rule(),
        ];
        for r in rules {
            assert!(!r.ids().is_empty(), "{r}");
            for c in cited(r.cite()) {
                assert!(c.text.is_some(), "{} of {r}", c.id);
            }
        }
    }
}
