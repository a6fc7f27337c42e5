//! [`StoreWriter`]: takes records from rooms through a bounded queue and writes them in
//! batches, one transaction each, in its own task. A failed batch is retried with backoff,
//! in order, so nothing accepted is lost while the database comes back; on a clean
//! shutdown everything queued is written before the node exits.

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

/// The rooms' end of the writer: cheap to clone.
#[derive(Debug, Clone)]
pub struct StoreWriter {
    queue: mpsc::Sender<Record>,
    store: Arc<dyn Store>,
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
        if self.queue.send(record).await.is_err() {
            tracing::error!("the store writer has stopped: a record was not written");
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
    mut records: mpsc::Receiver<Record>,
    mut stopped: oneshot::Receiver<()>,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut stopping = false;
    loop {
        if !stopping {
            tokio::select! {
                record = records.recv() => match record {
                    Some(record) => batch.push(record),
                    None => stopping = true,
                },
                _ = &mut stopped => stopping = true,
            }
        }
        // Everything already queued joins this batch: under load, batches grow by
        // themselves while the previous one is being written.
        while batch.len() < BATCH {
            match records.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            if stopping {
                return;
            }
            continue;
        }
        write_until_done(&*store, &batch, &metrics, stopping).await;
        batch.clear();
    }
}

/// Writes a batch, retrying with backoff. While the node runs it keeps trying (rooms wait
/// once the queue is full); during shutdown it gives up after a few attempts and says so.
async fn write_until_done(store: &dyn Store, batch: &[Record], metrics: &Metrics, stopping: bool) {
    let mut wait = RETRY_FIRST;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match store.write(batch).await {
            Ok(()) => {
                metrics.store_records.inc_by(batch.len() as u64);
                return;
            }
            Err(e) => {
                metrics.store_errors.inc();
                if stopping && attempts >= 5 {
                    tracing::error!(error = %e, records = batch.len(), "giving up writing records at shutdown");
                    return;
                }
                tracing::warn!(error = %e, records = batch.len(), retry_in = ?wait, "writing records failed");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
}
