//! The course: the built-in examples in a teaching order, from RFC 4555's
//! own two examples to a cluster moving its clients. The page's "Lessons"
//! control walks it; a lesson is just its example (opened, shared and
//! reset like any other).

use crate::session::{EXAMPLES, example_titles};

/// The lessons, in order, by example name (see [`EXAMPLES`]).
pub const COURSE: &[&str] = &[
    // The protocol as the RFC draws it.
    "rfc4555-e1-mobility",
    "rfc4555-e2-multihoming",
    // A real move, found by a liveness check, behind a carrier NAT.
    "wifi-to-lte",
    // NATs: keeping the mapping, a rebinding, a mapping that timed out.
    "nat-keepalives",
    "nat-rebinding",
    "nat-mapping-timeout",
    // A path that works one way only.
    "link-one-way",
    // Why return routability and the ICV matter.
    "attacker-spoofed-update",
    // The responder moves its clients.
    "responder-moves-client",
    "responder-moves-client-follow",
    // A cluster: responder MOBIKE against Redirect.
    "cluster-20-mobike",
    "cluster-20-redirect",
];

/// One lesson: where it is in the course and which example it opens.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    /// From 0.
    pub index: usize,
    /// The example's index in [`EXAMPLES`].
    pub example: usize,
    pub title: String,
}

/// Every lesson, in order; a name missing from [`EXAMPLES`] is left out
/// (a test rules that out).
pub fn lessons() -> Vec<Lesson> {
    COURSE
        .iter()
        .filter_map(|name| EXAMPLES.iter().position(|(n, _)| n == name))
        .enumerate()
        .map(|(index, example)| Lesson {
            index,
            example,
            title: example_titles()[example].clone(),
        })
        .collect()
}

/// The lesson that example `example` is, if it is one.
pub fn lesson_of(example: Option<usize>) -> Option<Lesson> {
    let example = example?;
    lessons().into_iter().find(|l| l.example == example)
}

/// The lesson after the one example `example` is.
pub fn next_lesson(example: Option<usize>) -> Option<Lesson> {
    let at = lesson_of(example)?;
    lessons().into_iter().nth(at.index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;

    #[test]
    fn every_lesson_names_an_example_once() {
        for name in COURSE {
            assert!(
                EXAMPLES.iter().any(|(n, _)| n == name),
                "{name} is no built-in example"
            );
            assert_eq!(COURSE.iter().filter(|n| *n == name).count(), 1, "{name}");
        }
        assert_eq!(lessons().len(), COURSE.len());
    }

    #[test]
    fn every_lesson_has_narration_to_follow() {
        for l in lessons() {
            let s = Session::from_toml(EXAMPLES[l.example].1).unwrap();
            assert!(!s.scenario.steps.is_empty(), "{}", l.title);
        }
    }

    #[test]
    fn the_course_goes_from_the_rfcs_examples_to_the_cluster() {
        let first = lessons()[0].clone();
        assert_eq!(EXAMPLES[first.example].0, "rfc4555-e1-mobility");
        let next = next_lesson(Some(first.example)).unwrap();
        assert_eq!(
            (next.index, EXAMPLES[next.example].0),
            (1, "rfc4555-e2-multihoming")
        );
        let last = lessons().last().unwrap().clone();
        assert_eq!(next_lesson(Some(last.example)), None);
        // An example outside the course, or a file, is no lesson.
        let strongswan = EXAMPLES
            .iter()
            .position(|(n, _)| *n == "strongswan-timers")
            .unwrap();
        assert_eq!(lesson_of(Some(strongswan)), None);
        assert_eq!(lesson_of(None), None);
    }
}
