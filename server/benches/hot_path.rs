//! Criterion micro-benchmarks of the hub's hot path: encoding one room event and handing
//! the same bytes to 10,000 outboxes, and the attendance work a join storm causes.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use plenary_proto::{
    Attendance, ChatMessage, ConnectionId, MessageId, RoomEvent, RoomId, Seq, ServerMsg, StageState, UserId,
    UserProfile,
};
use plenary_server::domain::attendance::AttendanceCoalescer;
use plenary_server::hub::peer::Peer;
use plenary_server::hub::{RoomStats, session_summary};
use plenary_server::metrics::Metrics;

const RECIPIENTS: usize = 10_000;

fn chat_event(seq: u64) -> ServerMsg {
    ServerMsg::Event {
        room: RoomId::session("keynote").unwrap(),
        seq: Seq(seq),
        event: RoomEvent::Chat {
            message: ChatMessage {
                id: MessageId::parse("0192f0c1a2b37c4d8e9f0a1b2c3d4e5f").unwrap(),
                author: UserProfile {
                    id: UserId::parse("user-42").unwrap(),
                    name: "Amina K.".into(),
                    country: Some("KE".into()),
                },
                text: "x".repeat(120),
                at: 1_764_000_000_000,
            },
        },
    }
}

fn fan_out(c: &mut Criterion) {
    let metrics = Arc::new(Metrics::default());
    let (peers, mut outboxes): (Vec<_>, Vec<_>) = (0..RECIPIENTS)
        .map(|n| Peer::new(n as u64, ConnectionId::parse(format!("c{n}")).unwrap(), 16, 1 << 20, metrics.clone()))
        .unzip();
    c.bench_function("encode once, queue to 10k outboxes", |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for i in 0..iterations {
                let started = Instant::now();
                let frame = Utf8Bytes::from(chat_event(i).to_json());
                for peer in &peers {
                    let _ = black_box(peer.send(frame.clone()));
                }
                timed += started.elapsed();
                // Empty the outboxes outside the timed part, as the writers would.
                for outbox in &mut outboxes {
                    while outbox.try_recv().is_some() {}
                }
            }
            timed
        })
    });
    c.bench_function("encode one chat event", |b| b.iter(|| black_box(chat_event(7).to_json())));
}

fn attendance(c: &mut Criterion) {
    c.bench_function("coalesce 10k attendance changes", |b| {
        b.iter(|| {
            let mut coalescer = AttendanceCoalescer::new(Duration::from_secs(1));
            let now = tokio::time::Instant::now();
            let mut sent = 0;
            for n in 1..=RECIPIENTS as u32 {
                coalescer.set(Attendance { present: n, unique: n });
                if coalescer.take_due(now).is_some() {
                    sent += 1;
                }
            }
            black_box(sent)
        })
    });
    let rooms: Vec<(RoomId, Arc<RoomStats>)> = (0..1_000)
        .map(|n| {
            let stats = Arc::new(RoomStats::default());
            if n % 3 == 0 {
                stats.set_stage_state(StageState::Live);
            }
            stats.present.store(n, std::sync::atomic::Ordering::Relaxed);
            (RoomId::session(&format!("s{n:04}")).unwrap(), stats)
        })
        .collect();
    c.bench_function("attendance summary tick over 1k rooms", |b| {
        b.iter(|| {
            let summary = session_summary(rooms.iter().cloned());
            black_box(ServerMsg::AttendanceSummary { sessions: summary }.to_json())
        })
    });
}

criterion_group!(benches, fan_out, attendance);
criterion_main!(benches);
