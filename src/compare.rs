//! Compare mode: a second run (B) beside the page's own (A), on one clock.
//! B is the same scenario with settings changed (`key=value`, as the CLI's
//! `--set`) or another built-in example. It follows A: the same moment,
//! the same interventions (those that make sense in B's scenario), a new
//! start when A starts over. The figures are `mobike compare`'s, taken at
//! the clock, so the CLI's `compare … --until <now>` prints the same
//! numbers (its column names too).

use crate::session::{EXAMPLES, Session, Shown, Source, Stage};
use mobike_protocol::Time;
use mobike_render::compare::{ChartDiff, Figures};
use mobike_render::metrics;
use mobike_sim::{Intervention, InterventionCheck, Scenario};

/// What run B is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Against {
    /// A's scenario with these settings (`[host.]key=value` each).
    Set(Vec<String>),
    /// This built-in example (its name in [`EXAMPLES`]).
    Example(String),
}

/// The characters a setting may have to travel in a share link as it is.
fn linkable(arg: &str) -> bool {
    !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:=-+".contains(c))
}

impl Against {
    /// Reads what the compare form or a share link says: `ex:NAME` or
    /// `set:k=v,k=v`.
    pub fn parse(text: &str) -> Result<Against, String> {
        if let Some(name) = text.strip_prefix("ex:") {
            if EXAMPLES.iter().any(|(n, _)| *n == name) {
                return Ok(Against::Example(name.to_string()));
            }
            return Err(format!("no built-in example {name:?}"));
        }
        if let Some(sets) = text.strip_prefix("set:") {
            return Against::settings(sets);
        }
        Err(format!(
            "{text:?}: write ex:<example> or set:<key>=<value>,…"
        ))
    }

    /// `k=v, k=v` as the form takes it.
    pub fn settings(text: &str) -> Result<Against, String> {
        let sets: Vec<String> = text
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if sets.is_empty() {
            return Err("name a setting to change, e.g. list_policy=follow".into());
        }
        if let Some(bad) = sets.iter().find(|s| !linkable(s)) {
            return Err(format!(
                "{bad:?}: a setting here is key=value with letters, digits and _ . : - + only"
            ));
        }
        Ok(Against::Set(sets))
    }

    /// As a share link writes it.
    pub fn encode(&self) -> String {
        match self {
            Against::Set(sets) => format!("set:{}", sets.join(",")),
            Against::Example(name) => format!("ex:{name}"),
        }
    }
}

/// Run B beside the session, and what the page shows of the pair.
pub struct Compare {
    pub against: Against,
    /// The columns' names, as `mobike compare` names them.
    pub name_a: String,
    pub name_b: String,
    pub b: Session,
    /// A's seed when B was made (a new seed in A starts B over with it).
    seed_a: u64,
    /// A's interventions that B's scenario has no place for.
    pub skipped: usize,
    /// Where A's scenario came from: another one ends compare mode.
    pub a_source: Source,
}

/// A run's name in the figures: the example's (file) name, or "scenario"
/// for a file.
fn run_name(s: &Stage) -> String {
    match &s.source {
        Source::Example(name) => name.clone(),
        Source::File(_) => "scenario".to_string(),
        Source::Capture(file) => file.clone(),
    }
}

impl Compare {
    /// Run B for session `a`, at `a`'s moment.
    pub fn new(a: &impl Shown, against: Against) -> Result<Compare, String> {
        if a.is_recorded() {
            return Err(
                "a recorded capture is shown as it was; it cannot be run again to compare".into(),
            );
        }
        let name_a = run_name(a);
        let (scenario, source, name_b) = match &against {
            Against::Set(sets) => {
                let mut s = a.scenario.clone();
                for arg in sets {
                    s.set_from_arg(arg)?;
                }
                (
                    s,
                    a.source.clone(),
                    format!("{name_a} ({})", sets.join(", ")),
                )
            }
            Against::Example(name) => {
                let text = EXAMPLES
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| format!("no built-in example {name:?}"))?;
                let s = Scenario::from_toml(text).map_err(|e| e.to_string())?;
                (s, Source::Example(name.clone()), name.clone())
            }
        };
        let mut c = Compare {
            against,
            name_a,
            name_b,
            b: Session::new(scenario, source),
            seed_a: a.scenario.seed,
            skipped: 0,
            a_source: a.source.clone(),
        };
        c.sync(a);
        Ok(c)
    }

    /// Brings B to A's moment with A's interventions; B starts over when
    /// they changed (A forked, reset, or the user acted) or A's seed did.
    pub fn sync(&mut self, a: &impl Shown) {
        if a.scenario.seed != self.seed_a {
            self.seed_a = a.scenario.seed;
            let mut s = self.b.scenario.clone();
            s.seed = a.scenario.seed;
            self.b = Session::new(s, self.b.source.clone());
        }
        let (log, skipped) = fitting(&self.b.scenario, a.log());
        if log != self.b.log() {
            let mut s = Session::replay(self.b.scenario.clone(), self.b.source.clone(), log);
            s.layout = std::mem::take(&mut self.b.layout);
            self.b = s;
        }
        self.skipped = skipped;
        if self.b.now() != a.now() {
            self.b.seek(a.now());
        }
    }

    /// The figures of both runs at the clock (`mobike compare --until`).
    pub fn figures(&self, a: &impl Shown) -> Figures {
        let a = metrics::compute_at(a.trace(), a.now());
        let b = metrics::compute_at(self.b.world.trace(), self.b.now());
        Figures::build(&[(self.name_a.clone(), a), (self.name_b.clone(), b)])
    }

    /// Which rows of each chart the other run has not.
    pub fn diff(&self, a: &impl Shown) -> ChartDiff {
        mobike_render::compare::diff(a.chart(), self.b.chart())
    }

    /// The CLI command that prints the same figures (from the repository,
    /// for built-in examples and settings).
    pub fn cli_args(&self, a: &impl Shown) -> Vec<String> {
        let file = |name: &str| format!("examples/{name}.toml");
        let mut out = vec!["compare".to_string()];
        match &self.against {
            Against::Set(sets) => {
                out.push(file(&self.name_a));
                out.push(format!("{}@{}", file(&self.name_a), sets.join(",")));
            }
            Against::Example(name) => {
                out.push(file(&self.name_a));
                out.push(file(name));
            }
        }
        out.push("--until".into());
        out.push(mobike_sim::duration::Dur(a.now()).to_string());
        out
    }
}

/// A's interventions that B's scenario can take, checked as a share link's
/// are; and how many could not be.
fn fitting(b: &Scenario, log: &[(Time, Intervention)]) -> (Vec<(Time, Intervention)>, usize) {
    let mut check = InterventionCheck::with_timeline(b);
    let mut out = Vec::new();
    let mut skipped = 0;
    for (t, a) in log {
        if check.check_at(*t, a).is_ok() {
            out.push((*t, a.clone()));
        } else {
            skipped += 1;
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_protocol::SEC;

    fn example(name: &str) -> Session {
        let text = EXAMPLES.iter().find(|(n, _)| *n == name).unwrap().1;
        let mut s = Session::from_toml(text).unwrap();
        s.source = Source::Example(name.into());
        s
    }

    #[test]
    fn against_reads_and_writes_what_links_carry() {
        let a = Against::parse("set:list_policy=follow,laptop.liveness_interval=30s").unwrap();
        assert_eq!(
            a,
            Against::Set(vec![
                "list_policy=follow".into(),
                "laptop.liveness_interval=30s".into()
            ])
        );
        assert_eq!(Against::parse(&a.encode()).unwrap(), a);
        let e = Against::parse("ex:cluster-20-redirect").unwrap();
        assert_eq!(Against::parse(&e.encode()).unwrap(), e);
        assert!(Against::parse("ex:nope").unwrap_err().contains("nope"));
        assert!(Against::parse("set:").is_err());
        assert!(Against::parse("set:a=b&c").unwrap_err().contains("a=b&c"));
        assert!(Against::parse("zz").is_err());
    }

    #[test]
    fn b_follows_the_clock_and_the_interventions() {
        let mut a = example("wifi-to-lte");
        let mut c =
            Compare::new(&a, Against::settings("return_routability=false").unwrap()).unwrap();
        assert_eq!(c.name_b, "wifi-to-lte (return_routability=false)");
        a.advance(5 * SEC);
        c.sync(&a);
        assert_eq!(c.b.now(), 5 * SEC);
        a.apply(Intervention::BreakLink { link: "lte".into() });
        c.sync(&a);
        assert_eq!(c.b.log(), a.log(), "the user's break is in B too");
        a.seek(2 * SEC);
        c.sync(&a);
        assert_eq!(c.b.now(), 2 * SEC, "scrubbing moves both");
        a.reset();
        c.sync(&a);
        assert!(c.b.log().is_empty() && c.b.now() == 0);
        a.set_seed(99);
        c.sync(&a);
        assert_eq!(c.b.scenario.seed, 99);
    }

    #[test]
    fn an_intervention_b_has_no_place_for_is_skipped() {
        let mut a = example("wifi-to-lte");
        let mut c = Compare::new(&a, Against::Example("cluster-20-mobike".into())).unwrap();
        a.advance(SEC);
        a.apply(Intervention::BreakLink {
            link: "wifi".into(),
        });
        c.sync(&a);
        assert_eq!((c.skipped, c.b.log().len()), (1, 0));
    }

    #[test]
    fn figures_are_the_cli_compare_at_the_clock() {
        let mut a = example("cluster-20-mobike");
        let mut c = Compare::new(&a, Against::Example("cluster-20-redirect".into())).unwrap();
        a.advance(30 * SEC);
        c.sync(&a);
        let f = c.figures(&a);
        assert_eq!(f.columns, ["cluster-20-mobike", "cluster-20-redirect"]);
        let clients = f.rows.iter().find(|r| r.label == "clients").unwrap();
        assert_eq!(clients.values, ["20", "20"]);
        assert!(f.rows.iter().any(|r| r.differs), "the two ways differ");
        assert_eq!(
            c.cli_args(&a).join(" "),
            "compare examples/cluster-20-mobike.toml examples/cluster-20-redirect.toml --until 30s"
        );
        let d = c.diff(&a);
        assert!(d.only_a.iter().any(|x| *x) && d.only_b.iter().any(|x| *x));
    }
}
