//! [`StoreWriter`]: takes records from rooms through a bounded queue and writes them in
//! batches, one transaction each, in its own task. A failed batch is retried with backoff,
//! in order, so nothing accepted is lost while the database comes back; on a clean
//! shutdown everything queued is written before the node exits.
//!
//! **Acknowledged means recorded.** A room queues a command's `ack` behind the command's
//! records ([`StoreWriter::after_commit`]); the writer gives it once the transaction holding
//! them committed. A node killed before that never acknowledged the command. Batching makes
//! this a group commit: every ack waiting in one batch costs one transaction.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Record, Store};
use crate::metrics::Metrics;

/// Records queued before rooms wait (only while the database is slower than the hub).
const QUEUE: usize = 65_536;
/// Records written in one transaction at most.
const BATCH: usize = 1_000;
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Failed attempts at a batch before it is tried record by record.
const SINGLE_RECORDS_AFTER: u32 = 3;

/// The rooms' end of the writer: cheap to clone.
#[derive(Debug, Clone)]
pub struct StoreWriter {
    queue: mpsc::Sender<Queued>,
    store: Arc<dyn Store>,
}

/// Called once the records queued before it are committed (`true`) or given up (`false`):
/// a room's way to answer a command only then, without the store knowing connections.
pub type Answer = Box<dyn FnOnce(bool) + Send>;

/// What the writer's queue carries: records, and answers to give once the records queued
/// before them are committed.
enum Queued {
    Record(Record),
    After(Answer),
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Stops the writer after it wrote everything queued.
#[derive(Debug)]
pub struct WriterTask {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl StoreWriter {
    /// Starts the writing task.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> (StoreWriter, WriterTask) {
        let (queue, records) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write_loop(store.clone(), records, stopped, metrics));
        (StoreWriter { queue, store }, WriterTask { stop, task })
    }

    /// Queues a record; waits only when the queue is full.
    pub async fn record(&self, record: Record) {
        if self.queue.send(Queued::Record(record)).await.is_err() {
            tracing::error!("the store writer has stopped: a record was not written");
        }
    }

    /// Calls `answer` once every record queued before it is committed (with `true`), or
    /// could not be (with `false`).
    pub async fn after_commit(&self, answer: Answer) {
        if let Err(mpsc::error::SendError(Queued::After(answer))) = self.queue.send(Queued::After(answer)).await {
            // The writer has stopped (the node is shutting down): the records were not written.
            answer(false);
        }
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

impl WriterTask {
    /// Writes everything queued, then ends the task.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn write_loop(
    store: Arc<dyn Store>,
    mut records: mpsc::Receiver<Queued>,
    mut stopped: oneshot::Receiver<()>,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut answers = Vec::new();
    let mut stopping = false;
    loop {
        if !stopping {
            tokio::select! {
                queued = records.recv() => match queued {
                    Some(Queued::Record(record)) => batch.push(record),
                    Some(Queued::After(answer)) => answers.push(answer),
                    None => stopping = true,
                },
                _ = &mut stopped => stopping = true,
            }
        }
        // Everything already queued joins this batch: under load, batches grow by
        // themselves while the previous one is being written.
        while batch.len() < BATCH {
            match records.try_recv() {
                Ok(Queued::Record(record)) => batch.push(record),
                Ok(Queued::After(answer)) => answers.push(answer),
                Err(_) => break,
            }
        }
        let mut written = true;
        if !batch.is_empty() {
            written = write_until_done(&*store, &batch, &metrics, stopping).await;
            batch.clear();
        }
        // Every answer taken so far came after records that are now committed (or given up).
        for answer in answers.drain(..) {
            answer(written);
        }
        if stopping && records.is_empty() {
            return;
        }
    }
}

/// Writes a batch, retrying with backoff. While the node runs it keeps trying (rooms wait
/// once the queue is full); during shutdown it gives up after a few attempts and says so.
/// A batch that keeps failing is written record by record: if some records go in, those
/// that do not are refused by the database itself (a value it cannot store), and they are
/// set aside with an error rather than holding up every record behind them; if none go in,
/// the database is away and the whole batch waits for it.
/// Returns whether the batch went in (a record the database refused counts as handled);
/// false only when the node gave up at shutdown.
async fn write_until_done(store: &dyn Store, batch: &[Record], metrics: &Metrics, stopping: bool) -> bool {
    let mut wait = RETRY_FIRST;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match store.write(batch).await {
            Ok(()) => {
                metrics.store_records.inc_by(batch.len() as u64);
                return true;
            }
            Err(e) => {
                metrics.store_errors.inc();
                if attempts % SINGLE_RECORDS_AFTER == 0 && write_one_by_one(store, batch, metrics).await {
                    return true;
                }
                if stopping && attempts >= SINGLE_RECORDS_AFTER {
                    tracing::error!(error = %e, records = batch.len(), "giving up writing records at shutdown");
                    return false;
                }
                tracing::warn!(error = %e, records = batch.len(), retry_in = ?wait, "writing records failed");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Writes each record alone. Returns whether the database took any of them (so the batch is
/// done, the refused ones dropped and logged); `false` leaves the whole batch to retry.
async fn write_one_by_one(store: &dyn Store, batch: &[Record], metrics: &Metrics) -> bool {
    let mut refused = Vec::new();
    let mut written = 0u64;
    for record in batch {
        match store.write(std::slice::from_ref(record)).await {
            Ok(()) => written += 1,
            Err(e) => refused.push((record, e)),
        }
    }
    if written == 0 {
        return false;
    }
    metrics.store_records.inc_by(written);
    for (record, e) in refused {
        metrics.store_refused.inc();
        tracing::error!(error = %e, ?record, "the database refused a record; it is not kept");
    }
    true
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use plenary_proto::{ChatMessage, MessageId, RoomId, UserId, UserProfile};

    use super::*;
    use crate::store::{StoreError, StoredRoom, TranscriptLine, Visit};

    /// Keeps what it is given, but refuses any batch holding the text "poison"; with a
    /// gate, each write waits for a permit.
    #[derive(Default)]
    struct PickyStore {
        kept: Mutex<Vec<Record>>,
        gate: Option<Arc<tokio::sync::Semaphore>>,
    }

    fn chat(text: &str) -> Record {
        Record::Chat {
            room: RoomId::session("s").unwrap(),
            message: ChatMessage {
                id: MessageId::parse(format!("m-{text}")).unwrap(),
                author: UserProfile { id: UserId::parse("u").unwrap(), name: "U".into(), country: None },
                text: text.into(),
                at: 0,
            },
        }
    }

    #[async_trait]
    impl Store for PickyStore {
        async fn write(&self, batch: &[Record]) -> Result<(), StoreError> {
            if let Some(gate) = &self.gate {
                gate.acquire().await.expect("gate open").forget();
            }
            if batch.iter().any(|r| matches!(r, Record::Chat { message, .. } if message.text == "poison")) {
                return Err(StoreError::Corrupt("refused".into()));
            }
            self.kept.lock().unwrap().extend(batch.iter().cloned());
            Ok(())
        }
        async fn room(&self, _: &RoomId, _: usize, _: i64) -> Result<StoredRoom, StoreError> {
            Ok(StoredRoom::default())
        }
        async fn chat_page(
            &self,
            _: &RoomId,
            _: Option<&MessageId>,
            _: usize,
        ) -> Result<(Vec<ChatMessage>, bool), StoreError> {
            Ok((Vec::new(), false))
        }
        async fn visits(&self, _: Option<&RoomId>) -> Result<Vec<Visit>, StoreError> {
            Ok(Vec::new())
        }
        async fn transcript(&self, _: &RoomId) -> Result<Vec<TranscriptLine>, StoreError> {
            Ok(Vec::new())
        }
        async fn rooms_on_stage(&self) -> Result<Vec<(RoomId, plenary_proto::StageState)>, StoreError> {
            Ok(Vec::new())
        }
        async fn questions(&self, _: &RoomId) -> Result<Vec<crate::domain::qa::Question>, StoreError> {
            Ok(Vec::new())
        }
        async fn qa_audit(&self, _: &RoomId) -> Result<Vec<super::super::AuditLine>, StoreError> {
            Ok(Vec::new())
        }
        #[allow(clippy::type_complexity)]
        async fn polls(
            &self,
            _: &RoomId,
        ) -> Result<
            (Vec<crate::domain::poll::Poll>, Vec<(MessageId, UserId, std::collections::BTreeSet<u8>)>),
            StoreError,
        > {
            Ok((Vec::new(), Vec::new()))
        }
        async fn call(&self, _: &RoomId) -> Result<Option<plenary_proto::CallInfo>, StoreError> {
            Ok(None)
        }
        async fn contact_requests(&self, _: &RoomId) -> Result<Vec<crate::domain::booth::ContactRequest>, StoreError> {
            Ok(Vec::new())
        }
        async fn put_lead(&self, _: &super::super::StoredLead) -> Result<(), StoreError> {
            Ok(())
        }
        async fn delete_lead(&self, _: &str, _: &UserId) -> Result<bool, StoreError> {
            Ok(false)
        }
        async fn leads(&self, _: &str, _: Option<&UserId>) -> Result<Vec<super::super::StoredLead>, StoreError> {
            Ok(Vec::new())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_the_database_refuses_does_not_hold_up_the_others() {
        let store = Arc::new(PickyStore::default());
        let metrics = Arc::new(Metrics::default());
        let (writer, task) = StoreWriter::start(store.clone(), metrics.clone());
        for text in ["first", "poison", "last"] {
            writer.record(chat(text)).await;
        }
        task.finish().await;
        let kept: Vec<String> = store
            .kept
            .lock()
            .unwrap()
            .iter()
            .map(|r| match r {
                Record::Chat { message, .. } => message.text.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(kept, ["first", "last"]);
        assert_eq!(metrics.store_refused.get(), 1);
    }

    #[tokio::test]
    async fn an_answer_is_given_only_once_its_records_are_committed() {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let store = Arc::new(PickyStore { gate: Some(gate.clone()), ..PickyStore::default() });
        let (writer, task) = StoreWriter::start(store.clone(), Arc::new(Metrics::default()));
        let (told, mut answered) = mpsc::unbounded_channel();
        writer.record(chat("hello")).await;
        let kept = store.clone();
        writer
            .after_commit(Box::new(move |written| {
                let _ = told.send((written, kept.kept.lock().unwrap().len()));
            }))
            .await;
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(answered.try_recv().is_err(), "no answer while the write is held");
        gate.add_permits(1);
        let answer = tokio::time::timeout(Duration::from_secs(5), answered.recv()).await.unwrap().unwrap();
        assert_eq!(answer, (true, 1), "answered as written, with the record already in");
        gate.add_permits(100);
        task.finish().await;
    }
}
