//! The `--concurrency` bound on queries on the wire, with two queues: a question asked by an
//! evaluation already under way (it has waited for an answer before: a relay's address, a
//! delegation) is sent before the first questions of evaluations that have not waited yet.
//!
//! Why: a policy's relays are asked one after another (the walk stops at the first relay
//! that holds the client, so it may not ask ahead), and the run's popular lists (a provider's
//! 40 relays that a thousand domains name) make one chain of dependent questions that every
//! evaluation naming them waits on. Behind a single first-come queue each link of that chain
//! waited for the thousands of first questions queued before it (150–220 ms a link at
//! `--concurrency 1024` with 20 ms answers, timed once with temporary instrumentation), until
//! every evaluation of the window waited on the chain and nothing was in flight
//! (docs/performance.md). Which questions are asked does not change, only when.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

tokio::task_local! {
    /// Set while a [`Ranked`] evaluation is polled: whether it has waited before.
    static UNDER_WAY: bool;
}

/// An evaluation whose questions after its first wait go first (see the module doc).
pub struct Ranked<F> {
    /// Boxed so that wrapping it copies nothing: evaluations are kilobytes, and moving them
    /// through nested futures cost more instructions than the whole change saved.
    evaluation: Pin<Box<F>>,
    under_way: bool,
}

/// Runs `evaluation` as a [`Ranked`] one. Outside one, every question is an ordinary one,
/// first come first served.
pub fn ranked<F: Future>(evaluation: F) -> Ranked<F> {
    Ranked {
        evaluation: Box::pin(evaluation),
        under_way: false,
    }
}

impl<F: Future> Future for Ranked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let evaluation = &mut this.evaluation;
        let polled = UNDER_WAY.sync_scope(this.under_way, || evaluation.as_mut().poll(cx));
        if polled.is_pending() {
            this.under_way = true;
        }
        polled
    }
}

/// Whether a question asked now continues an evaluation under way.
pub fn under_way() -> bool {
    UNDER_WAY.try_with(|under_way| *under_way).unwrap_or(false)
}

/// A permit handed to a waiting question; the receiver turns it into a [`Permit`].
struct Ticket;

#[derive(Default)]
struct Queues {
    free: usize,
    urgent: VecDeque<oneshot::Sender<Ticket>>,
    normal: VecDeque<oneshot::Sender<Ticket>>,
}

/// At most `size` permits out at once; freed permits go to urgent waiters first.
pub struct Gate {
    size: usize,
    queues: Mutex<Queues>,
}

/// One query's place on the wire, given back when dropped.
pub struct Permit {
    gate: Arc<Gate>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release();
    }
}

impl Gate {
    pub fn new(size: usize) -> Arc<Gate> {
        Arc::new(Gate {
            size,
            queues: Mutex::new(Queues {
                free: size,
                ..Default::default()
            }),
        })
    }

    fn queues(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Permits out now (handed to a waiter that has not run yet included).
    pub fn in_use(&self) -> usize {
        self.size - self.queues().free
    }

    /// Waits for a permit, in the urgent queue or the ordinary one.
    pub async fn acquire(self: &Arc<Self>, urgent: bool) -> Permit {
        let receiver = {
            let mut queues = self.queues();
            if queues.free > 0 {
                queues.free -= 1;
                return Permit { gate: self.clone() };
            }
            let (sender, receiver) = oneshot::channel();
            if urgent {
                queues.urgent.push_back(sender);
            } else {
                queues.normal.push_back(sender);
            }
            receiver
        };
        let mut waiting = Waiting {
            receiver,
            gate: self,
            served: false,
        };
        // The sender is only dropped unsent by a gate being dropped, which this Arc prevents.
        let _ = (&mut waiting.receiver).await;
        waiting.served = true;
        Permit { gate: self.clone() }
    }

    fn release(&self) {
        let mut queues = self.queues();
        loop {
            let next = match queues.urgent.pop_front() {
                Some(waiter) => Some(waiter),
                None => queues.normal.pop_front(),
            };
            let Some(waiter) = next else {
                queues.free += 1;
                return;
            };
            // A waiter that gave up refuses the ticket: the next one gets it.
            if waiter.send(Ticket).is_ok() {
                return;
            }
        }
    }
}

/// A question's claim on the gate: the permit it holds while it is on the network, given
/// up as soon as the reply is read ([`super::wire`] drops it with the waiter, before the
/// asker is even woken), and taken again in the same queue for any further exchange.
pub struct Slot {
    gate: Arc<Gate>,
    urgent: bool,
    permit: Option<Permit>,
}

impl Slot {
    pub fn new(gate: Arc<Gate>, urgent: bool) -> Slot {
        Slot {
            gate,
            urgent,
            permit: None,
        }
    }

    /// Waits until the slot holds a permit (at once if it holds one already).
    pub async fn hold(&mut self) {
        if self.permit.is_none() {
            self.permit = Some(self.gate.acquire(self.urgent).await);
        }
    }

    /// The permit held, to travel with the query; the slot holds none after.
    pub fn take(&mut self) -> Option<Permit> {
        self.permit.take()
    }

    /// Gives back a permit that came back unused (no reply was read).
    pub fn put(&mut self, permit: Option<Permit>) {
        if permit.is_some() {
            self.permit = permit;
        }
    }
}

/// A question waiting in a queue; if it gives up, a ticket already sent to it is handed on.
struct Waiting<'a> {
    receiver: oneshot::Receiver<Ticket>,
    gate: &'a Gate,
    served: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.served {
            return;
        }
        self.receiver.close();
        if self.receiver.try_recv().is_ok() {
            self.gate.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn urgent_waiters_are_served_first_and_permits_come_back() {
        let gate = Gate::new(1);
        let held = gate.acquire(false).await;
        assert_eq!(gate.in_use(), 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for (name, urgent) in [("normal-1", false), ("normal-2", false), ("urgent", true)] {
            let (gate, order) = (gate.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let _permit = gate.acquire(urgent).await;
                order.lock().unwrap().push(name);
            }));
            // Queued in this order.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["urgent", "normal-1", "normal-2"]);
        assert_eq!(gate.in_use(), 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_keep_a_permit() {
        let gate = Gate::new(1);
        let held = gate.acquire(false).await;
        let gave_up = tokio::time::timeout(Duration::from_millis(10), gate.acquire(true)).await;
        assert!(gave_up.is_err());
        drop(held);
        assert_eq!(
            gate.in_use(),
            0,
            "the permit went back, not to the gone waiter"
        );
        let _again = gate.acquire(false).await;
        assert_eq!(gate.in_use(), 1);
    }

    #[tokio::test]
    async fn questions_after_the_first_wait_are_urgent() {
        assert!(!under_way(), "outside an evaluation");
        let seen = ranked(async {
            let before = under_way();
            tokio::task::yield_now().await;
            (before, under_way())
        })
        .await;
        assert_eq!(seen, (false, true));
    }
}
