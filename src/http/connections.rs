//! The table of open connections, so that slow or idle clients can never keep a new one out.
//!
//! Every connection the server accepts has a [`Slot`] here: its client address, and whether it is
//! serving a request right now or waiting for one (a slow client still sending its head, or an idle
//! keep-alive connection), and since when. Two caps apply when a connection arrives:
//!
//! - **per address** (`MAX_CONNECTIONS_PER_ADDRESS`): one address can't take every slot. At its cap,
//!   that address's idlest waiting connection is closed to make room; if all of them are serving a
//!   request, the new one is refused. Peers in `TRUSTED_PROXIES` carry many clients and are exempt.
//! - **in all** (`MAX_CONNECTIONS`): at the cap, the idlest waiting connection of anyone is closed.
//!   Only when every connection is serving a request does the server stop accepting until one ends.
//!
//! Which waiting connection goes first: one that has never completed a request (a slowloris client
//! trickling its first head, or a client that connected and said nothing), oldest first; only when
//! there is none, the keep-alive connection that has waited longest since its last request. A
//! client that has been served is worth more than one that has only taken a slot. Connections
//! accepted while the table is nearly full also get a shorter header timeout ([`Pressure`]).
//!
//! The table is touched when a connection opens, when its first request starts and when it closes
//! (a mutex); every other request flips two atomics of its own slot. The never-served connections
//! are kept in admission order, so the usual victim is found without a scan; only when none is
//! left are the keep-alive connections scanned.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Notify;

use crate::config::TrustedProxies;

/// One connection's entry: shared by the table and the connection's task.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    addr: IpAddr,
    /// A request is being served (from its parsed head until its response future finished).
    busy: AtomicBool,
    /// At least one request has started on this connection.
    served: AtomicBool,
    /// When the connection last started waiting for a request head, as a tick of the table's
    /// [`IdleClock`]. Meaningful only while not busy.
    waiting_since: AtomicU64,
    /// Told when the table wants this connection gone (to make room, or at shutdown).
    evict: Notify,
    /// The table's idle clock, shared here so that ending a request needs no access to the table.
    idle_clock: Arc<IdleClock>,
    table: Weak<Shared>,
}

impl Slot {
    /// Marks the start of a request; the returned guard marks its end when dropped, so a
    /// response future that is dropped half-way (client gone) counts as ended too.
    pub fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.busy.store(true, Ordering::Relaxed);
        if !self.served.swap(true, Ordering::Relaxed) {
            // The first request: no longer among the never-served, the first to be closed.
            if let Some(table) = self.table.upgrade() {
                table.lock().unserved.remove(&self.id);
            }
        }
        RequestGuard(Arc::clone(self))
    }

    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed)
    }

    /// Completes when the table asks this connection to close.
    pub async fn evicted(&self) {
        self.evict.notified().await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(table) = self.table.upgrade() {
            table.remove(self.id, self.addr);
        }
    }
}

/// Held while a request is served; see [`Slot::begin_request`].
pub struct RequestGuard(Arc<Slot>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let slot = &self.0;
        slot.waiting_since
            .store(slot.idle_clock.tick(), Ordering::Relaxed);
        slot.busy.store(false, Ordering::Relaxed);
    }
}

/// Orders the moments connections start waiting: each takes the next tick, so the waiting
/// connection with the smallest has waited longest. Only that order matters to the table, and a
/// shared counter gives it without reading the system clock at the end of every request.
#[derive(Debug, Default)]
struct IdleClock(AtomicU64);

impl IdleClock {
    fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// What [`Connections::admit`] decided for a new connection.
#[derive(Debug)]
pub enum Admission {
    /// Serve it; drop the slot when the connection ends. `made_room` says which caps closed a
    /// waiting connection for it.
    Admitted {
        slot: Arc<Slot>,
        pressure: Pressure,
        made_room: MadeRoom,
    },
    /// Its address has every one of its connections busy with a request: close it.
    RefusedForAddress,
    /// Every connection is busy with a request: wait for [`Connections::room`], then try again.
    Full,
}

/// The waiting connections closed to admit a new one, by the cap that needed the room: for the
/// server to count and report (`/metrics`, the log).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MadeRoom {
    /// Its own address was at `MAX_CONNECTIONS_PER_ADDRESS`: one of that address's closed.
    pub per_address: bool,
    /// The table was at `MAX_CONNECTIONS`: the address whose connection was closed.
    pub total: Option<IpAddr>,
}

/// How full the table was when a connection was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressure {
    Normal,
    /// At least three quarters full: the connection gets the shorter header timeout.
    High,
}

/// The connection table; see the module documentation.
#[derive(Debug, Clone)]
pub struct Connections {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    max_total: usize,
    max_per_address: usize,
    trusted_proxies: TrustedProxies,
    idle_clock: Arc<IdleClock>,
    table: Mutex<Table>,
    /// Told whenever a connection closes (a slot may have freed up, or the table may be empty).
    closed: Notify,
}

#[derive(Debug, Default)]
struct Table {
    slots: HashMap<u64, Weak<Slot>>,
    /// Connections that have not started a request yet, by id: ids grow, so this is admission order.
    unserved: BTreeSet<u64>,
    per_address: HashMap<IpAddr, usize>,
    next_id: u64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A poisoned lock only means a panic mid-update of plain counters; keep serving.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remove(&self, id: u64, addr: IpAddr) {
        let mut table = self.lock();
        if table.slots.remove(&id).is_some() {
            table.forget_address(addr);
        }
        table.unserved.remove(&id);
        drop(table);
        self.closed.notify_waiters();
    }
}

impl Table {
    fn forget_address(&mut self, addr: IpAddr) {
        if let Some(count) = self.per_address.get_mut(&addr) {
            *count -= 1;
            if *count == 0 {
                self.per_address.remove(&addr);
            }
        }
    }

    /// The connection to close to make room, among those `filter` accepts: the oldest one that has
    /// never started a request, else the waiting keep-alive connection idle the longest. Never one
    /// serving a request.
    fn victim(&self, filter: impl Fn(&Slot) -> bool) -> Option<Arc<Slot>> {
        let never_served = self
            .unserved
            .iter()
            .filter_map(|id| self.slots.get(id)?.upgrade())
            .find(|slot| !slot.is_busy() && filter(slot));
        never_served.or_else(|| {
            self.slots
                .values()
                .filter_map(Weak::upgrade)
                .filter(|slot| !slot.is_busy() && filter(slot))
                .min_by_key(|slot| slot.waiting_since.load(Ordering::Relaxed))
        })
    }

    /// Takes `slot` out of the table now (so the counts have room at once) and tells it to close.
    fn evict(&mut self, slot: &Slot) {
        if self.slots.remove(&slot.id).is_some() {
            self.forget_address(slot.addr);
        }
        self.unserved.remove(&slot.id);
        slot.evict.notify_one();
    }
}

impl Connections {
    pub fn new(max_total: usize, max_per_address: usize, trusted_proxies: TrustedProxies) -> Self {
        Connections {
            shared: Arc::new(Shared {
                max_total: max_total.max(1),
                max_per_address: max_per_address.max(1),
                trusted_proxies,
                idle_clock: Arc::default(),
                table: Mutex::new(Table::default()),
                closed: Notify::new(),
            }),
        }
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.shared.lock().slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until a new connection could be admitted: at once if the table is below its cap or
    /// holds a waiting connection (which [`Connections::admit`] will close when a client really
    /// arrives), otherwise until a connection ends. Called before `accept`, so that while every
    /// slot is busy new clients wait in the kernel's queue instead of costing memory here.
    pub async fn room(&self) {
        loop {
            let closed = self.shared.closed.notified();
            if self.has_room() {
                return;
            }
            // Every connection is serving a request. One ending wakes us; so does a short pause,
            // after which some may have finished their request and be waiting (evictable).
            let _ = tokio::time::timeout(std::time::Duration::from_millis(20), closed).await;
        }
    }

    /// True if a new connection could be admitted now: the table is below its cap, or holds a
    /// waiting connection to close for it.
    pub fn has_room(&self) -> bool {
        let table = self.shared.lock();
        table.slots.len() < self.shared.max_total || table.victim(|_| true).is_some()
    }

    /// Registers a connection from `addr`, making room within its address's cap if needed.
    pub fn admit(&self, addr: IpAddr) -> Admission {
        let addr = addr.to_canonical();
        let mut table = self.shared.lock();
        let capped = !self.shared.trusted_proxies.trusts(addr);
        let of_address = table.per_address.get(&addr).copied().unwrap_or(0);
        let mut made_room = MadeRoom::default();
        if capped && of_address >= self.shared.max_per_address {
            match table.victim(|slot| slot.addr == addr) {
                Some(victim) => table.evict(&victim),
                None => return Admission::RefusedForAddress,
            }
            made_room.per_address = true;
        }
        // At the total cap, the idlest waiting connection makes room for this one.
        if table.slots.len() >= self.shared.max_total {
            match table.victim(|_| true) {
                Some(victim) => {
                    table.evict(&victim);
                    made_room.total = Some(victim.addr);
                }
                None => return Admission::Full,
            }
        }
        let pressure = if table.slots.len() * 4 >= self.shared.max_total * 3 {
            Pressure::High
        } else {
            Pressure::Normal
        };
        let id = table.next_id;
        table.next_id += 1;
        let slot = Arc::new(Slot {
            id,
            addr,
            busy: AtomicBool::new(false),
            served: AtomicBool::new(false),
            waiting_since: AtomicU64::new(self.shared.idle_clock.tick()),
            evict: Notify::new(),
            idle_clock: Arc::clone(&self.shared.idle_clock),
            table: Arc::downgrade(&self.shared),
        });
        table.slots.insert(id, Arc::downgrade(&slot));
        table.unserved.insert(id);
        *table.per_address.entry(addr).or_insert(0) += 1;
        Admission::Admitted {
            slot,
            pressure,
            made_room,
        }
    }

    /// Asks every connection to close (shutdown): a waiting one now, taken out of the table, and
    /// one serving a request once its answer is sent (it stays in the table until then).
    pub fn close_all(&self) {
        let mut table = self.shared.lock();
        let open: Vec<Arc<Slot>> = table.slots.values().filter_map(Weak::upgrade).collect();
        for slot in open {
            if slot.is_busy() {
                slot.evict.notify_one();
            } else {
                table.evict(&slot);
            }
        }
    }

    /// Completes once no connection is open.
    pub async fn all_closed(&self) {
        loop {
            let closed = self.shared.closed.notified();
            if self.is_empty() {
                return;
            }
            closed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// True while `slot` is in the table (not closed to make room).
    fn holds(table: &Connections, slot: &Slot) -> bool {
        table.shared.lock().slots.contains_key(&slot.id)
    }

    fn admitted(admission: Admission) -> Arc<Slot> {
        match admission {
            Admission::Admitted { slot, .. } => slot,
            other => panic!("expected admission, got {other:?}"),
        }
    }

    #[test]
    fn an_address_at_its_cap_loses_its_idlest_waiting_connection() {
        let table = Connections::new(100, 2, TrustedProxies::default());
        let first = admitted(table.admit(ip("10.0.0.1")));
        let second = admitted(table.admit(ip("10.0.0.1")));
        let _third = admitted(table.admit(ip("10.0.0.1")));
        // The first had waited longest: it was taken out of the table (and told to close).
        assert_eq!(table.len(), 2);
        assert!(holds(&table, &second));
        assert!(!holds(&table, &first));
        // Other addresses are unaffected.
        let _other = admitted(table.admit(ip("10.0.0.2")));
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn admission_says_which_cap_made_room() {
        // The slots are kept: a dropped slot leaves the table.
        let admit = |table: &Connections, addr: &str| match table.admit(ip(addr)) {
            Admission::Admitted {
                slot, made_room, ..
            } => (slot, made_room),
            other => panic!("expected admission, got {other:?}"),
        };
        let table = Connections::new(2, 1, TrustedProxies::default());
        let (_a, room) = admit(&table, "10.0.0.1");
        assert_eq!(room, MadeRoom::default());
        // 10.0.0.1 is at its cap of one: its first connection makes room.
        let (_a2, room) = admit(&table, "10.0.0.1");
        let per_address = MadeRoom {
            per_address: true,
            total: None,
        };
        assert_eq!(room, per_address);
        let (_b, room) = admit(&table, "10.0.0.2");
        assert_eq!(room, MadeRoom::default());
        // The table is at its cap of two: the longest-waiting connection (10.0.0.1's) makes room.
        let (_c, room) = admit(&table, "10.0.0.3");
        let total = MadeRoom {
            per_address: false,
            total: Some(ip("10.0.0.1")),
        };
        assert_eq!(room, total);
    }

    #[test]
    fn a_connection_that_never_started_a_request_goes_before_a_served_one() {
        let table = Connections::new(2, 10, TrustedProxies::default());
        // A served keep-alive connection, idle since long ago...
        let served = admitted(table.admit(ip("10.0.0.1")));
        drop(served.begin_request());
        // ...and a newer one that never sent a whole head.
        let slow = admitted(table.admit(ip("10.0.0.2")));
        let _new = admitted(table.admit(ip("10.0.0.3")));
        assert!(holds(&table, &served));
        assert!(!holds(&table, &slow));
    }

    #[test]
    fn among_served_connections_the_one_waiting_longest_since_its_last_request_goes() {
        let table = Connections::new(3, 10, TrustedProxies::default());
        let slots: Vec<Arc<Slot>> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .into_iter()
            .map(|addr| admitted(table.admit(ip(addr))))
            .collect();
        let (first, second, third) = (
            slots[0].begin_request(),
            slots[1].begin_request(),
            slots[2].begin_request(),
        );
        // Their requests end in the order 2, 1, 3: the second has waited longest since.
        drop(second);
        drop(first);
        drop(third);
        let _new = admitted(table.admit(ip("10.0.0.4")));
        assert!(!holds(&table, &slots[1]));
        assert!(holds(&table, &slots[0]) && holds(&table, &slots[2]));
    }

    #[test]
    fn an_address_whose_connections_are_all_busy_is_refused() {
        let table = Connections::new(100, 2, TrustedProxies::default());
        let a = admitted(table.admit(ip("10.0.0.1")));
        let b = admitted(table.admit(ip("10.0.0.1")));
        let _ga = a.begin_request();
        let _gb = b.begin_request();
        assert!(matches!(
            table.admit(ip("10.0.0.1")),
            Admission::RefusedForAddress
        ));
        // A trusted proxy carries many clients: no per-address cap.
        let proxied = Connections::new(100, 1, TrustedProxies::parse("10.0.0.9").unwrap());
        let p = admitted(proxied.admit(ip("10.0.0.9")));
        let _gp = p.begin_request();
        let _second = admitted(proxied.admit(ip("10.0.0.9")));
        assert_eq!(proxied.len(), 2);
    }

    #[test]
    fn at_the_total_cap_a_busy_connection_is_never_evicted() {
        let table = Connections::new(2, 10, TrustedProxies::default());
        let busy = admitted(table.admit(ip("10.0.0.1")));
        let _guard = busy.begin_request();
        let idle = admitted(table.admit(ip("10.0.0.2")));
        let _new = admitted(table.admit(ip("10.0.0.3")));
        assert!(holds(&table, &busy));
        assert!(!holds(&table, &idle));
    }

    #[test]
    fn at_the_total_cap_with_every_connection_busy_a_new_one_must_wait() {
        let table = Connections::new(1, 10, TrustedProxies::default());
        let busy = admitted(table.admit(ip("10.0.0.1")));
        let guard = busy.begin_request();
        assert!(matches!(table.admit(ip("10.0.0.2")), Admission::Full));
        drop(guard);
        let _next = admitted(table.admit(ip("10.0.0.2")));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_finished_request_makes_its_connection_waiting_again_and_slots_free_on_drop() {
        let table = Connections::new(10, 10, TrustedProxies::default());
        let slot = admitted(table.admit(ip("10.0.0.1")));
        let guard = slot.begin_request();
        assert!(slot.is_busy());
        drop(guard);
        assert!(!slot.is_busy());
        drop(slot);
        assert!(table.is_empty());
        assert!(table.shared.lock().per_address.is_empty());
    }

    #[test]
    fn pressure_is_high_from_three_quarters_full() {
        let table = Connections::new(4, 10, TrustedProxies::default());
        let mut slots = Vec::new();
        let mut pressures = Vec::new();
        for n in 0..4 {
            match table.admit(ip(&format!("10.0.0.{n}"))) {
                Admission::Admitted { slot, pressure, .. } => {
                    slots.push(slot);
                    pressures.push(pressure);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            pressures,
            [
                Pressure::Normal,
                Pressure::Normal,
                Pressure::Normal,
                Pressure::High
            ]
        );
    }
}
