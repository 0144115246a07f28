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

/// The table by id, and the (RFC, section) pairs that have rules: the
/// chart looks references up in every row it draws.
struct Index {
    by_id: std::collections::HashMap<&'static str, usize>,
    sections: std::collections::HashSet<(&'static str, &'static str)>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let rules = all();
        Index {
            by_id: rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect(),
            sections: rules
                .iter()
                .flat_map(|r| {
                    r.section
                        .split(", ")
                        .filter_map(|s| s.split(' ').next())
                        .map(|s| (r.rfc(), s))
                })
                .collect(),
        }
    })
}

/// The requirement with checklist id `id` ("M-3.7-5").
pub fn lookup(id: &str) -> Option<&'static RuleText> {
    index().by_id.get(id).map(|&i| &all()[i])
}

/// Whether section `section` of `rfc` has rules in the table (that is,
/// [`section_rules`] gives some).
fn has_section_rules(rfc: &str, section: &str) -> bool {
    index().sections.contains(&(rfc, section))
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

/// A rule reference found in a text: a checklist id ("M-3.5-2") or an RFC
/// section the checklist has rules for ("RFC 4555 §3.5", or "§3.7" after
/// an RFC was named), where the text has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// Byte range of the reference in the text.
    pub range: std::ops::Range<usize>,
    /// What it names, as [`explain`] takes it: "M-3.5-2", "RFC 4555 §3.5".
    pub key: String,
}

/// The rules a section of an RFC holds ("RFC 4555", "3.5"): those whose
/// table entry names that section.
pub fn section_rules(rfc: &str, section: &str) -> Vec<&'static RuleText> {
    all()
        .iter()
        .filter(|r| {
            r.rfc() == rfc
                && r.section
                    .split(", ")
                    .any(|s| s.split(' ').next() == Some(section))
        })
        .collect()
}

/// Where the rule references in `text` are, in order: every checklist id
/// the table has, and every "§x.y" of an RFC named before it in the text
/// ("RFC 4555 §3.5 and §3.7": two) whose section has rules in the table.
/// "RFC 4555 §3.5" is one reference, the RFC's name included; an RFC named
/// without a section is none (it is not one rule).
pub fn find_refs(text: &str) -> Vec<RuleRef> {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let b = text.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut out = Vec::new();
    // The RFC named last: (its name, where the name starts, where it ends).
    let mut rfc: Option<(&str, usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !word(b[i - 1]);
        if boundary && text[i..].starts_with("RFC ") {
            let n = digits(i + 4);
            let end = i + 4 + n;
            if n > 0 && (end == b.len() || !word(b[end])) {
                rfc = Some((&text[i..end], i, end));
                i = end;
                continue;
            }
        }
        if text[i..].starts_with('§') {
            let from = i + '§'.len_utf8();
            // Digits and inner dots: "3.5", not the full stop after it.
            let mut end = from + digits(from);
            while end > from && b.get(end) == Some(&b'.') && digits(end + 1) > 0 {
                end += 1 + digits(end + 1);
            }
            if end > from {
                let section = &text[from..end];
                if let Some((name, start, name_end)) = rfc
                    && has_section_rules(name, section)
                {
                    let start = if &text[name_end..i] == " " { start } else { i };
                    out.push(RuleRef {
                        range: start..end,
                        key: format!("{name} §{section}"),
                    });
                }
                i = end;
                continue;
            }
        }
        if boundary && matches!(b[i], b'M' | b'B' | b'I' | b'U') && b.get(i + 1) == Some(&b'-') {
            let len = b[i..].iter().take_while(|&&c| word(c) || c == b'.').count();
            let id = text[i..i + len].trim_end_matches('.');
            if checklist_ids(id) == [id] && lookup(id).is_some() {
                out.push(RuleRef {
                    range: i..i + id.len(),
                    key: id.to_string(),
                });
                i += id.len();
                continue;
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// `text` cut at its rule references: (a piece, the key of the reference
/// it is, if it is one), in order; the pieces joined give the text back.
pub fn split_refs(text: &str) -> Vec<(&str, Option<String>)> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in find_refs(text) {
        if r.range.start > at {
            out.push((&text[at..r.range.start], None));
        }
        out.push((&text[r.range.clone()], Some(r.key)));
        at = r.range.end;
    }
    if at < text.len() || out.is_empty() {
        out.push((&text[at..], None));
    }
    out
}

/// What a reference (a key of [`find_refs`]) shows: a title and each rule
/// with its text. `None` for a key that names nothing in the table.
pub fn explain(key: &str) -> Option<(String, Vec<RuleLine>)> {
    if let Some(r) = lookup(key) {
        return Some((format!("{} · {}", r.id, r.source()), rule_lines(r.id)));
    }
    let (rfc, section) = key.split_once(" §")?;
    let rules = section_rules(rfc, section);
    if rules.is_empty() {
        return None;
    }
    let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    Some((key.to_string(), rule_lines(&ids.join(" "))))
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

    /// The index answers as a walk through the table does.
    #[test]
    fn the_index_agrees_with_the_table() {
        for r in all() {
            assert_eq!(lookup(r.id), Some(r));
        }
        for rfc in ["RFC 4555", "RFC 7296", "RFC 3948", "RFC 5685"] {
            for section in [
                "1", "2.1", "2.11", "3.5", "3.7", "4", "4.2.5", "5.3", "9.9", "",
            ] {
                assert_eq!(
                    has_section_rules(rfc, section),
                    !section_rules(rfc, section).is_empty(),
                    "{rfc} §{section}"
                );
            }
        }
        assert!(has_section_rules("RFC 4555", "3.7"));
        assert!(!has_section_rules("RFC 4555", "9.9"));
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

    #[test]
    fn rule_references_are_found_where_the_text_has_them() {
        let text = "Checked (RFC 4555 §3.5, M-3.5-2); then §3.7 and RFC 7296 §2.1. Not M-3.7-10, not XM-3.5-2, not RFC 4555 alone.";
        let refs = find_refs(text);
        let keys: Vec<&str> = refs.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["RFC 4555 §3.5", "M-3.5-2", "RFC 4555 §3.7", "RFC 7296 §2.1"]
        );
        let at: Vec<&str> = refs.iter().map(|r| &text[r.range.clone()]).collect();
        assert_eq!(at, ["RFC 4555 §3.5", "M-3.5-2", "§3.7", "RFC 7296 §2.1"]);
        // A section sentence-final keeps its full stop out; an id too.
        let r = find_refs("see §3.5. And B-3.5-11.");
        let keys: Vec<&str> = r.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["B-3.5-11"], "no RFC named before §3.5");
        let r = find_refs("RFC 4555 says so (§3.5). And B-3.5-11.");
        let at: Vec<&str> = r
            .iter()
            .map(|r| &"RFC 4555 says so (§3.5). And B-3.5-11."[r.range.clone()])
            .collect();
        assert_eq!(at, ["§3.5", "B-3.5-11"]);
        // A section the table has no rule for is not a link.
        assert!(find_refs("RFC 7296 §2.14").is_empty());
        assert!(find_refs("").is_empty());
    }

    #[test]
    fn split_refs_gives_the_text_back_in_pieces() {
        let text = "ok [RFC 4555 §3.7 (M-3.7-5)] — done";
        let parts = split_refs(text);
        assert_eq!(parts.iter().map(|p| p.0).collect::<String>(), text);
        assert_eq!(
            parts,
            [
                ("ok [", None),
                ("RFC 4555 §3.7", Some("RFC 4555 §3.7".to_string())),
                (" (", None),
                ("M-3.7-5", Some("M-3.7-5".to_string())),
                (")] — done", None),
            ]
        );
        assert_eq!(split_refs("plain"), [("plain", None)]);
    }

    #[test]
    fn a_reference_explains_itself_with_the_references_words() {
        let (title, lines) = explain("M-3.7-5").unwrap();
        assert_eq!(title, "M-3.7-5 · RFC 4555 §3.7, §4.2.5");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].requirement,
            "Recipient copies COOKIE2 as-is into response"
        );
        let (title, lines) = explain("RFC 4555 §3.7").unwrap();
        assert_eq!(title, "RFC 4555 §3.7");
        assert!(lines.iter().any(|l| l.id == "M-3.7-5"));
        assert!(
            lines
                .iter()
                .all(|l| l.known && l.source.starts_with("RFC 4555"))
        );
        assert_eq!(explain("RFC 4555 §99"), None);
        assert_eq!(explain("M-3.7-10"), None);
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
