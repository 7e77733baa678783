//! The result of a state machine's transition: the next record and what
//! happened, for the adapter to store in one transaction.

/// A record after a transition, with the events it produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition<R, E> {
    /// The record after the transition.
    pub record: R,
    /// What happened, oldest first; empty when nothing changed.
    pub events: Vec<E>,
}

impl<R, E> Transition<R, E> {
    /// A transition to `record` with one event.
    pub fn new(record: R, event: E) -> Self {
        Self { record, events: vec![event] }
    }

    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        !self.events.is_empty()
    }
}
