//! Which login gets a password-check place, and which check a thread takes next: the pool's fair
//! sharing between client addresses (lanes), as plain state kept under the pool's lock. The rules
//! are the pool's documentation (`super`); each is one method here, and none looks at a username.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::oneshot;

use crate::metrics::QueueStats;

/// Whose logins share a lane: the client's address (`None` when it is not known).
pub(super) type Lane = Option<IpAddr>;

/// The work of one check: true when the password is right.
pub(super) type Work = Box<dyn FnOnce() -> bool + Send>;

/// How a job ended, sent to the login that waits for it.
#[derive(Debug)]
pub(super) enum Answer {
    Checked(bool),
    /// Its place went to a login from a lane holding at least two places fewer.
    PushedOut,
}

/// One check, and where to send its answer.
pub(super) struct Job {
    pub(super) lane: Lane,
    pub(super) work: Work,
    pub(super) answer: oneshot::Sender<Answer>,
    pub(super) arrived: Instant,
}

/// A login waiting for a place; `id` lets it withdraw when its wait ends or its client leaves.
struct Waiting {
    id: u64,
    job: Job,
}

/// One lane's share of the pool. It exists while the lane holds a place or has a login waiting.
struct LaneState {
    /// Its jobs queued for a thread, oldest first.
    queued: VecDeque<Job>,
    /// Places it holds: its queued jobs and its running checks.
    held: usize,
    /// Its logins waiting for a place.
    waiting: usize,
    /// The pool's count of checks started when one of this lane's last started; 0: none yet.
    served: u64,
    /// When the lane appeared (a sequence number): the tie-break between lanes never served.
    joined: u64,
}

#[derive(Default)]
pub(super) struct State {
    lanes: HashMap<Lane, LaneState>,
    /// Logins waiting for a place, oldest first.
    waiting: VecDeque<Waiting>,
    /// Places held, all lanes together.
    held: usize,
    /// Checks started so far: the clock that `LaneState::served` reads.
    started: u64,
    /// Sequence numbers for waiting logins and lanes.
    next_id: u64,
    /// The pool was dropped: threads stop.
    pub(super) closed: bool,
}

/// What became of a login that asked for a place.
pub(super) enum Admitted {
    /// It holds a place, queued for a thread.
    Placed,
    /// It holds a place taken from a fuller lane; this login, whose place it was, gets 503.
    PlacedInstead(Job),
    /// Every place is taken and none could be taken: it waits, under this id.
    Waiting(u64),
}

impl State {
    /// Gives `job` a place if one of the `places` is free; else takes the newest queued place of the
    /// fullest lane if that lane holds more than one place more than `job`'s; else `job` waits.
    pub(super) fn admit(&mut self, job: Job, places: usize, stats: &QueueStats) -> Admitted {
        if self.held < places {
            self.place(job, stats);
            return Admitted::Placed;
        }
        let mine = self.lanes.get(&job.lane).map_or(0, |lane| lane.held);
        if let Some(pushed) = self.push_out(mine, stats) {
            self.place(job, stats);
            return Admitted::PlacedInstead(pushed);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.lane(job.lane).waiting += 1;
        self.waiting.push_back(Waiting { id, job });
        stats.waiting.fetch_add(1, Ordering::Relaxed);
        Admitted::Waiting(id)
    }

    /// `lane`'s state, new if it had none.
    fn lane(&mut self, lane: Lane) -> &mut LaneState {
        let next_id = &mut self.next_id;
        self.lanes.entry(lane).or_insert_with(|| {
            *next_id += 1;
            LaneState {
                queued: VecDeque::new(),
                held: 0,
                waiting: 0,
                served: 0,
                joined: *next_id,
            }
        })
    }

    fn place(&mut self, job: Job, stats: &QueueStats) {
        let lane = self.lane(job.lane);
        lane.held += 1;
        lane.queued.push_back(job);
        self.held += 1;
        stats.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// The newest queued job of the lane holding the most places, taken out of the queue, if that
    /// lane holds more than `mine + 1` (so that taking one leaves it at least as many as `mine + 1`).
    fn push_out(&mut self, mine: usize, stats: &QueueStats) -> Option<Job> {
        let fullest = self
            .lanes
            .iter()
            .filter(|(_, lane)| !lane.queued.is_empty() && lane.held > mine + 1)
            .max_by_key(|(_, lane)| (lane.held, lane.joined))
            .map(|(key, _)| *key)?;
        let lane = self.lanes.get_mut(&fullest)?;
        let job = lane.queued.pop_back()?;
        lane.held -= 1;
        self.held -= 1;
        stats.queued.fetch_sub(1, Ordering::Relaxed);
        Some(job)
    }

    /// The next job for a thread: the oldest of the lane served least recently.
    pub(super) fn next(&mut self, stats: &QueueStats) -> Option<Job> {
        let key = self
            .lanes
            .iter()
            .filter(|(_, lane)| !lane.queued.is_empty())
            .min_by_key(|(_, lane)| (lane.served, lane.joined))
            .map(|(key, _)| *key)?;
        self.started += 1;
        let lane = self.lanes.get_mut(&key)?;
        lane.served = self.started;
        let job = lane.queued.pop_front()?;
        stats.queued.fetch_sub(1, Ordering::Relaxed);
        Some(job)
    }

    /// A check of `lane` ended: its place goes to the best waiting login, if any.
    pub(super) fn finish(&mut self, lane: Lane, stats: &QueueStats) {
        if let Some(state) = self.lanes.get_mut(&lane) {
            state.held -= 1;
        }
        self.held -= 1;
        self.forget_if_idle(lane);
        let best = self
            .waiting
            .iter()
            .enumerate()
            .min_by_key(|(i, waiting)| {
                let lane = self.lanes.get(&waiting.job.lane);
                (lane.map(|l| l.held), lane.map(|l| l.served), *i)
            })
            .map(|(i, _)| i);
        if let Some(Waiting { job, .. }) = best.and_then(|i| self.waiting.remove(i)) {
            stats.waiting.fetch_sub(1, Ordering::Relaxed);
            let lane = job.lane;
            self.lane(lane).waiting -= 1;
            self.place(job, stats);
        }
    }

    /// Takes waiting login `id` out; false if it is no longer waiting (it was given a place).
    pub(super) fn withdraw(&mut self, id: u64, stats: &QueueStats) -> bool {
        let Some(i) = self.waiting.iter().position(|waiting| waiting.id == id) else {
            return false;
        };
        let Some(Waiting { job, .. }) = self.waiting.remove(i) else {
            return false;
        };
        stats.waiting.fetch_sub(1, Ordering::Relaxed);
        if let Some(lane) = self.lanes.get_mut(&job.lane) {
            lane.waiting -= 1;
        }
        self.forget_if_idle(job.lane);
        true
    }

    fn forget_if_idle(&mut self, lane: Lane) {
        if self
            .lanes
            .get(&lane)
            .is_some_and(|state| state.held == 0 && state.waiting == 0)
        {
            self.lanes.remove(&lane);
        }
    }

    /// Nothing held, queued or waiting, and no lane left behind.
    #[cfg(test)]
    pub(super) fn is_idle(&self) -> bool {
        self.lanes.is_empty() && self.waiting.is_empty() && self.held == 0
    }
}
