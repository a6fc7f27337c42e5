//! The hub: the registry of room actors on this node, the dispatcher that routes bus
//! deliveries to them, the presence exchange, the event room's attendance summary and the
//! exhibition hall's booth summary.
//!
//! Rooms are created on first use and evicted after idling empty. A `DashMap` entry is only
//! touched for a short synchronous section (look up or insert a mailbox sender); every
//! message to a room goes through that room's bounded mailbox.

pub mod peer;
pub mod room;
pub(crate) mod stage_media;

pub use stage_media::StageMedia;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use plenary_proto::{BoothCounts, RoomId, RoomKind, Seq, ServerMsg, SessionAttendance, StageState};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bus::{Bus, PresenceReport, Publication};
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::programme::index::ProgrammeIndex;
use crate::store::StoreWriter;
pub use room::RoomStats;
use room::{Room, RoomCmd};

/// Commands queued per room before senders wait.
const ROOM_MAILBOX: usize = 1024;
/// How often the dispatcher asks the bus whether it dropped deliveries to this node.
const LAG_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("this node holds its maximum number of rooms; try again later")]
    TooManyRooms,
    #[error("{0} is not a room this node serves")]
    UnknownRoom(RoomId),
    #[error("the node is shutting down")]
    ShuttingDown,
    #[error("the room is restarting; try again")]
    Restarting,
}

struct RoomEntry {
    mailbox: mpsc::Sender<RoomCmd>,
    stats: Arc<RoomStats>,
    generation: u64,
}

pub(crate) struct HubContext {
    pub(crate) settings: Arc<Settings>,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) metrics: Arc<Metrics>,
    rooms: DashMap<RoomId, RoomEntry>,
    pub(crate) tracker: TaskTracker,
    pub(crate) shutdown: CancellationToken,
    generations: AtomicU64,
    /// The last attendance summary sent to the event room, for members who join later.
    pub(crate) latest_summary: std::sync::Mutex<Option<Utf8Bytes>>,
    /// The last booth summary sent to the exhibition hall, for members who join later.
    pub(crate) latest_booths: std::sync::Mutex<Option<Utf8Bytes>>,
    /// Where room events and visits are recorded; `None` keeps everything in memory.
    pub(crate) writer: Option<StoreWriter>,
    /// The programme's sessions, when the node has a programme.
    pub(crate) sessions: Option<Arc<ProgrammeIndex>>,
    /// The WebRTC stage's media plane, when the node has one.
    pub(crate) media: Option<Arc<StageMedia>>,
}

/// What the hub keeps outside memory: where rooms record their events and the programme's
/// sessions (both absent when the node runs without a database).
#[derive(Debug, Default)]
pub struct HubStorage {
    pub writer: Option<StoreWriter>,
    pub sessions: Option<Arc<ProgrammeIndex>>,
    /// The WebRTC stage's media plane and its events, when the node has one.
    pub media: Option<(StageMedia, mpsc::Receiver<plenary_media::MediaEvent>)>,
}

/// A cheap handle on the node's hub.
#[derive(Clone)]
pub struct Hub {
    ctx: Arc<HubContext>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("rooms", &self.ctx.rooms.len()).finish_non_exhaustive()
    }
}

impl Hub {
    /// Starts the hub's background tasks on `tracker`; they stop when `shutdown` fires.
    pub fn start(
        settings: Arc<Settings>,
        bus: Arc<dyn Bus>,
        inbox: mpsc::Receiver<Publication>,
        storage: HubStorage,
        metrics: Arc<Metrics>,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Hub {
        let HubStorage { writer, sessions, media } = storage;
        let (media, media_events) = match media {
            Some((media, events)) => (Some(Arc::new(media)), Some(events)),
            None => (None, None),
        };
        let ctx = Arc::new(HubContext {
            settings,
            bus,
            metrics,
            rooms: DashMap::new(),
            tracker,
            shutdown,
            generations: AtomicU64::new(0),
            latest_summary: std::sync::Mutex::new(None),
            latest_booths: std::sync::Mutex::new(None),
            writer,
            sessions,
            media,
        });
        let hub = Hub { ctx };
        if let (Some(media), Some(events)) = (hub.ctx.media.clone(), media_events) {
            hub.ctx.tracker.spawn(media.relay(hub.clone(), events));
        }
        hub.ctx.tracker.spawn(hub.clone().dispatch(inbox));
        hub.ctx.tracker.spawn(hub.clone().summarise());
        hub.ctx.tracker.spawn(hub.clone().share_presence());
        hub.ctx.tracker.spawn(hub.clone().summarise_booths());
        hub
    }

    /// The media plane's figures, when the node has one.
    pub async fn media_stats(&self) -> Option<plenary_media::Stats> {
        self.ctx.media.as_ref()?.plane().stats().await.ok()
    }

    /// Loops the demo clip on the demo event's live sessions whose stage is WebRTC.
    pub fn start_demo_stage(&self, sessions: &[&str]) {
        if let Some(media) = &self.ctx.media {
            media.start_demo(self, sessions);
        }
    }

    /// Ends a connection's stage publishing and viewing in `room` (in every room: `None`).
    pub async fn stop_media(&self, connection: peer::PeerId, room: Option<&RoomId>) {
        if let Some(media) = &self.ctx.media {
            media.stop(connection, room).await;
        }
    }

    pub fn room_count(&self) -> usize {
        self.ctx.rooms.len()
    }

    /// Starts the room if it is not running (a session that was live before a restart
    /// shows as live again without waiting for someone to join).
    pub fn open(&self, room: &RoomId, state: StageState) -> Result<(), HubError> {
        self.mailbox(room)?;
        // Known from the record already: set now, so the programme shows the session live
        // before the room has finished loading.
        if let Some(entry) = self.ctx.rooms.get(room) {
            entry.stats.set_stage_state(state);
        }
        Ok(())
    }

    /// Sessions on this node whose stage is live or on a break, with their attendance.
    pub fn live_sessions(&self) -> Vec<SessionAttendance> {
        session_summary(self.ctx.rooms.iter().map(|e| (e.key().clone(), e.stats.clone())))
    }

    /// Sends a command to a room, starting the room if it is not running. Waits while the
    /// room's mailbox is full, which slows only the sending connection.
    pub async fn send(&self, room: &RoomId, mut cmd: RoomCmd) -> Result<(), HubError> {
        // A room that is being evicted closes its mailbox; the retry starts a new one.
        for _ in 0..3 {
            let (mailbox, generation) = self.mailbox(room)?;
            match mailbox.send(cmd).await {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(returned)) => {
                    self.ctx.rooms.remove_if(room, |_, entry| entry.generation == generation);
                    cmd = returned;
                }
            }
        }
        Err(HubError::Restarting)
    }

    /// Sends a join. A call room that is not running opens only for a call that exists (in
    /// the record or on the bus), so joins naming made-up calls hold no room and leave
    /// nothing behind.
    pub async fn join(&self, room: &RoomId, cmd: RoomCmd) -> Result<(), HubError> {
        if room.kind() == Some(RoomKind::Call) && !self.ctx.rooms.contains_key(room) && !self.call_exists(room).await {
            return Err(HubError::UnknownRoom(room.clone()));
        }
        self.send(room, cmd).await
    }

    /// Whether a call was opened: its record, or its stream (which `call_opened` starts, and
    /// which may be ahead of the record).
    async fn call_exists(&self, room: &RoomId) -> bool {
        if let Some(writer) = &self.ctx.writer
            && let Ok(Some(_)) = writer.store().call(room).await
        {
            return true;
        }
        self.ctx.bus.history(room, Seq::ZERO, 1).await.is_ok_and(|history| !history.publications.is_empty())
    }

    fn mailbox(&self, room: &RoomId) -> Result<(mpsc::Sender<RoomCmd>, u64), HubError> {
        if self.ctx.shutdown.is_cancelled() {
            return Err(HubError::ShuttingDown);
        }
        if let Some(entry) = self.ctx.rooms.get(room) {
            return Ok((entry.mailbox.clone(), entry.generation));
        }
        let kind = room.kind().ok_or_else(|| HubError::UnknownRoom(room.clone()))?;
        // With a programme, a session room exists only for a session in it: nobody can make
        // the node hold rooms for names they invent.
        match (kind, &self.ctx.sessions) {
            (RoomKind::Session, Some(index)) if !index.contains(room.name()) => {
                return Err(HubError::UnknownRoom(room.clone()));
            }
            (RoomKind::Booth, Some(index)) if index.booth(room.name()).is_none() => {
                return Err(HubError::UnknownRoom(room.clone()));
            }
            (RoomKind::Green, Some(index)) if !index.contains(room.name()) => {
                return Err(HubError::UnknownRoom(room.clone()));
            }
            _ => {}
        }
        if self.ctx.rooms.len() >= self.ctx.settings.max_rooms {
            return Err(HubError::TooManyRooms);
        }
        let entry = self.ctx.rooms.entry(room.clone()).or_insert_with(|| {
            let generation = self.ctx.generations.fetch_add(1, Ordering::Relaxed);
            let (mailbox, rx) = mpsc::channel(ROOM_MAILBOX);
            let stats = Arc::new(RoomStats::default());
            let actor = Room::new(room.clone(), kind, generation, self.ctx.clone(), stats.clone());
            self.ctx.tracker.spawn(actor.run(rx));
            self.ctx.metrics.rooms.inc();
            RoomEntry { mailbox, stats, generation }
        });
        Ok((entry.mailbox.clone(), entry.generation))
    }

    /// Routes bus deliveries to local rooms. Never waits on a room: a full mailbox drops the
    /// delivery, and the room fills the gap from the bus history at the next event.
    async fn dispatch(self, mut inbox: mpsc::Receiver<Publication>) {
        // Drops are noticed within this interval even when no later delivery arrives.
        let mut lag_check = tokio::time::interval(LAG_CHECK_INTERVAL);
        lag_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.ctx.shutdown.cancelled() => return,
                p = inbox.recv() => {
                    let Some(publication) = p else { return };
                    let room = self.ctx.rooms.get(&publication.topic).map(|e| (e.mailbox.clone(), e.stats.clone()));
                    if publication.seq == Seq::ZERO {
                        // An unsequenced notice (call signalling): best effort, nothing to catch up on.
                        if let Some((mailbox, _)) = room {
                            let _ = mailbox.try_send(RoomCmd::Notice(publication.payload));
                        }
                        continue;
                    }
                    if let Some((mailbox, stats)) = room
                        && mailbox.try_send(RoomCmd::Deliver(publication)).is_err()
                    {
                        stats.behind.store(true, Ordering::Relaxed);
                        let _ = mailbox.try_send(RoomCmd::CatchUp);
                    }
                }
                _ = lag_check.tick() => {}
            }
            if self.ctx.bus.take_lagged() {
                // The bus dropped deliveries to this node: every room checks its history.
                let rooms: Vec<_> = self.ctx.rooms.iter().map(|e| (e.mailbox.clone(), e.stats.clone())).collect();
                for (mailbox, stats) in rooms {
                    stats.behind.store(true, Ordering::Relaxed);
                    let _ = mailbox.try_send(RoomCmd::CatchUp);
                }
            }
        }
    }

    /// Every summary interval, tells the event room the attendance of each session whose
    /// stage is live or on a break, when that list changed. O(rooms) per interval.
    async fn summarise(self) {
        let mut ticker = tokio::time::interval(self.ctx.settings.summary_interval());
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last: Option<Vec<SessionAttendance>> = None;
        loop {
            tokio::select! {
                _ = self.ctx.shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let sessions = session_summary(self.ctx.rooms.iter().map(|e| (e.key().clone(), e.stats.clone())));
            if last.as_ref() == Some(&sessions) {
                continue;
            }
            let frame = Utf8Bytes::from(ServerMsg::AttendanceSummary { sessions: sessions.clone() }.to_json());
            *self.ctx.latest_summary.lock().expect("summary lock") = Some(frame.clone());
            let event_room = self.ctx.rooms.get(&RoomId::event()).map(|e| e.mailbox.clone());
            match event_room {
                Some(mailbox) => {
                    if mailbox.try_send(RoomCmd::Broadcast(frame)).is_ok() {
                        last = Some(sessions);
                    }
                }
                None => last = Some(sessions),
            }
        }
    }
}

impl Hub {
    /// Every attendance interval: reports this node's count (and newly seen users) for each
    /// room it has members in, or had at the last report, and hands each room the other
    /// nodes' share. One bus round trip per interval, whatever the number of joins. At
    /// shutdown a last report of zeros takes this node's share out at once.
    async fn share_presence(self) {
        let mut ticker = tokio::time::interval(self.ctx.settings.attendance_interval());
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = self.ctx.shutdown.cancelled() => true,
                _ = ticker.tick() => false,
            };
            let mut rooms = Vec::new();
            let mut reports = Vec::new();
            for entry in self.ctx.rooms.iter() {
                let stats = entry.stats.clone();
                let present = if stopping { 0 } else { stats.present.load(Ordering::Relaxed) };
                let new_users = std::mem::take(&mut *stats.new_users.lock().expect("new users lock"));
                // A booth with only its staff here counts no visitors but still reports them.
                let watching = !stopping
                    && (!stats.watched.lock().expect("stats lock").is_empty()
                        || stats.needs_rounds.load(Ordering::Relaxed));
                let active = present > 0 || watching;
                if !active && new_users.is_empty() && !stats.reported.load(Ordering::Relaxed) {
                    continue;
                }
                stats.reported.store(active, Ordering::Relaxed);
                let mut report = PresenceReport::count(entry.key().clone(), present, new_users);
                if !stopping && matches!(entry.key().kind(), Some(RoomKind::Booth | RoomKind::Green)) {
                    report.watched = stats.watched.lock().expect("stats lock").clone();
                    report.on_duty = stats.on_duty.lock().expect("stats lock").clone();
                }
                reports.push(report);
                rooms.push((entry.mailbox.clone(), stats, present));
            }
            match self.ctx.bus.exchange_presence(&reports).await {
                Ok(totals) => {
                    for (((mailbox, stats, present), total), report) in rooms.into_iter().zip(totals).zip(&reports) {
                        if matches!(report.room.kind(), Some(RoomKind::Booth | RoomKind::Green)) && !stopping {
                            // Every round, not only on change: the room's grace periods run on it.
                            let _ = mailbox.try_send(RoomCmd::PresenceRound { everywhere: total.watched.clone() });
                        }
                        let others = total.present.saturating_sub(present);
                        let moved = stats.others_present.swap(others, Ordering::Relaxed) != others;
                        let grew = stats.cluster_unique.swap(total.unique, Ordering::Relaxed) != total.unique;
                        if moved || grew {
                            let _ = mailbox.try_send(RoomCmd::PresenceChanged);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "presence exchange failed");
                    // Keep the users for the next report; counts are current by then anyway.
                    for ((_, stats, _), report) in rooms.into_iter().zip(reports) {
                        stats.new_users.lock().expect("new users lock").extend(report.new_users);
                        stats.reported.store(true, Ordering::Relaxed);
                    }
                }
            }
            if stopping {
                return;
            }
        }
    }
}

impl Hub {
    /// Every attendance interval while the exhibition hall has members here: reads every
    /// booth's presence over the nodes (one bus round trip) and tells the hall when the
    /// counts changed. Visitors moving between booths cost the hall one message per
    /// interval, not one per move.
    async fn summarise_booths(self) {
        let mut ticker = tokio::time::interval(self.ctx.settings.attendance_interval());
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last: Option<Vec<BoothCounts>> = None;
        loop {
            tokio::select! {
                _ = self.ctx.shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let hall = self.ctx.rooms.get(&RoomId::expo()).map(|e| (e.mailbox.clone(), e.stats.clone()));
            let Some((mailbox, stats)) = hall else {
                last = None;
                continue;
            };
            if stats.present.load(Ordering::Relaxed) == 0 {
                // Nobody here reads it: a later member must not get stale counts.
                *self.ctx.latest_booths.lock().expect("summary lock") = None;
                last = None;
                continue;
            }
            // The programme's booths; a node without a programme knows only the booths open here.
            let mut rooms: Vec<RoomId> = match &self.ctx.sessions {
                Some(index) => index.booth_ids().iter().filter_map(|b| RoomId::booth(b).ok()).collect(),
                None => self
                    .ctx
                    .rooms
                    .iter()
                    .filter(|e| e.key().kind() == Some(RoomKind::Booth))
                    .map(|e| e.key().clone())
                    .collect(),
            };
            rooms.sort();
            let totals = match self.ctx.bus.read_presence(&rooms).await {
                Ok(totals) => totals,
                Err(e) => {
                    tracing::debug!(error = %e, "reading booth presence failed");
                    continue;
                }
            };
            let counts: Vec<BoothCounts> = rooms
                .iter()
                .zip(totals)
                .map(|(room, total)| BoothCounts {
                    booth: room.name().to_owned(),
                    visitors: total.present,
                    staff_on_duty: u32::try_from(total.on_duty.len()).unwrap_or(u32::MAX),
                })
                .collect();
            if last.as_ref() == Some(&counts) {
                continue;
            }
            let frame = Utf8Bytes::from(ServerMsg::BoothSummary { booths: counts.clone() }.to_json());
            *self.ctx.latest_booths.lock().expect("summary lock") = Some(frame.clone());
            if mailbox.try_send(RoomCmd::Broadcast(frame)).is_ok() {
                last = Some(counts);
            }
        }
    }
}

/// The attendance summary's lines: every session room whose stage is live or on a break,
/// sorted by room. One pass over the rooms.
pub fn session_summary(rooms: impl Iterator<Item = (RoomId, Arc<RoomStats>)>) -> Vec<SessionAttendance> {
    let mut sessions: Vec<SessionAttendance> = rooms
        .filter(|(room, _)| room.kind() == Some(RoomKind::Session))
        .filter_map(|(room, stats)| {
            let state = stats.stage_state()?;
            matches!(state, StageState::Live | StageState::Break).then(|| SessionAttendance {
                room,
                state,
                present: stats.total_present(),
            })
        })
        .collect();
    sessions.sort_by(|a, b| a.room.cmp(&b.room));
    sessions
}
