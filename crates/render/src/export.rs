//! What an export of the chart shows: the chart's view as the page holds it
//! (its filter, folded groups and routine runs, ESP shown or not), turned
//! into the options of the ASCII, Mermaid and SVG renderers, and into the
//! command-line flags with which `mobike export` writes the same bytes. The
//! page's downloads and the CLI go through this one type, so a chart
//! downloaded from the page is the CLI's chart of the same run.

use crate::ascii::AsciiOptions;
use crate::msc::{Exchange, Filter, RowKind, ViewOptions};
use crate::svg::SvgOptions;
use crate::topology::HostGroup;
use std::collections::BTreeSet;

/// The chart's view, as far as an export carries it. A search and runs
/// the user unfolded one by one stay on the page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportView {
    /// Hosts, exchanges and row kinds left out.
    pub filter: Filter,
    /// ESP packets (the ping traffic) drawn.
    pub show_esp: bool,
    /// Host groups drawn as one lane each (as the page draws them), except
    /// those in `expanded_groups`. The ASCII chart has a lane per side and
    /// does not fold.
    pub fold_groups: bool,
    pub expanded_groups: BTreeSet<String>,
    /// Runs of keepalives and routine liveness checks folded into one row.
    pub fold_routine: bool,
}

impl ExportView {
    /// The page's chart view (`show_esp` is the page's ESP switch) of a
    /// scenario with these host groups (the page folds each into a lane).
    pub fn of_page(view: &ViewOptions, show_esp: bool, groups: &[HostGroup]) -> ExportView {
        ExportView {
            filter: view.filter.clone(),
            show_esp,
            fold_groups: !groups.is_empty(),
            expanded_groups: view.expanded_groups.clone(),
            fold_routine: view.collapse_routine,
        }
    }

    /// Leaves out the exchange or row kind of this id (the ids of
    /// [`Exchange::id`] and [`RowKind::id`]; `esp` is the ESP switch).
    pub fn hide(&mut self, id: &str) -> Result<(), String> {
        if id == Exchange::Esp.id() {
            self.show_esp = false;
        } else if let Some(e) = Exchange::from_id(id) {
            self.filter.hide_exchanges.insert(e);
        } else if let Some(k) = RowKind::from_id(id) {
            self.filter.hide_kinds.insert(k);
        } else {
            let ids: Vec<&str> = Exchange::ALL
                .iter()
                .map(|e| e.id())
                .chain(RowKind::ALL.iter().map(|k| k.id()))
                .collect();
            return Err(format!(
                "{id:?} is neither an exchange nor a kind of row (one of: {})",
                ids.join(", ")
            ));
        }
        Ok(())
    }

    /// The ASCII (and Mermaid) chart's options.
    pub fn ascii(&self, groups: &[HostGroup]) -> AsciiOptions {
        AsciiOptions {
            keepalives: true,
            esp: self.show_esp,
            notes: true,
            filter: self.filter.clone(),
            groups: groups.to_vec(),
        }
    }

    /// The SVG chart's options.
    pub fn svg(&self, groups: &[HostGroup]) -> SvgOptions {
        let group_filter = self
            .filter
            .host
            .as_ref()
            .is_some_and(|h| h.starts_with("group:"));
        // A host filter that names a group needs the groups even when they
        // are not folded: then every one is drawn expanded.
        let (groups, expanded) = if self.fold_groups {
            (groups.to_vec(), self.expanded_groups.clone())
        } else if group_filter {
            (
                groups.to_vec(),
                groups.iter().map(|g| g.id.clone()).collect(),
            )
        } else {
            (Vec::new(), BTreeSet::new())
        };
        SvgOptions {
            show_esp: self.show_esp,
            groups,
            view: ViewOptions {
                filter: self.filter.clone(),
                expanded_groups: expanded,
                collapse_routine: self.fold_routine,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// The flags of `mobike export` (and `run`) that draw this view.
    pub fn args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.show_esp {
            out.push("--esp".to_string());
        }
        let hidden: Vec<&str> = self
            .filter
            .hide_exchanges
            .iter()
            .filter(|e| **e != Exchange::Esp)
            .map(|e| e.id())
            .chain(self.filter.hide_kinds.iter().map(|k| k.id()))
            .collect();
        if !hidden.is_empty() {
            out.push("--hide".to_string());
            out.push(hidden.join(","));
        }
        if let Some(h) = &self.filter.host {
            out.push("--host".to_string());
            out.push(h.clone());
        }
        if self.fold_groups {
            out.push("--fold-groups".to_string());
            for g in &self.expanded_groups {
                out.push("--expand-group".to_string());
                out.push(g.clone());
            }
        }
        if self.fold_routine {
            out.push("--fold-routine".to_string());
        }
        out
    }
}

/// A command-line word quoted for a POSIX shell where it needs it.
pub fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:@+%".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hide_knows_exchanges_kinds_and_esp() {
        let mut v = ExportView {
            show_esp: true,
            ..Default::default()
        };
        v.hide("keepalive").unwrap();
        v.hide("note").unwrap();
        v.hide("esp").unwrap();
        assert!(v.filter.hide_exchanges.contains(&Exchange::Keepalive));
        assert!(v.filter.hide_kinds.contains(&RowKind::Note));
        assert!(!v.show_esp);
        let e = v.hide("ike_sa").unwrap_err();
        assert!(e.contains("ike_sa_init") && e.contains("narration"), "{e}");
    }

    #[test]
    fn args_name_every_part_of_the_view() {
        let mut v = ExportView {
            show_esp: true,
            fold_groups: true,
            fold_routine: true,
            ..Default::default()
        };
        v.hide("keepalive").unwrap();
        v.hide("lost").unwrap();
        v.filter.host = Some("group:client".into());
        v.expanded_groups.insert("client".into());
        assert_eq!(
            v.args().join(" "),
            "--esp --hide keepalive,lost --host group:client --fold-groups \
             --expand-group client --fold-routine"
        );
        assert!(ExportView::default().args().is_empty());
    }

    #[test]
    fn shell_words_are_quoted_only_where_needed() {
        assert_eq!(shell_word("wifi-to-lte.toml"), "wifi-to-lte.toml");
        assert_eq!(shell_word("My run.toml"), "'My run.toml'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
