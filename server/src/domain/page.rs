//! Pages: every list a node sends in one frame (a snapshot's questions, chat and booth
//! requests, and the answers to `qa_page`, `booth_page` and `chat_history`) is cut by count
//! and by encoded size, so no frame grows with what attendees type. The rest is one request
//! away (`more: true`).

use serde::Serialize;

/// Items in one page.
pub const PAGE_ITEMS: usize = 50;
/// Encoded bytes of the items in one page. Four pages fit in a frame with room to spare:
/// a snapshot carries at most three lists (chat, questions or requests, polls).
pub const PAGE_BYTES: usize = 128 * 1024;

/// The items that fit, and whether any were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub more: bool,
}

/// Takes items in order while both limits hold. The first item is always taken, so a
/// reader paging with a cursor always advances (an item is bounded by the input limits,
/// far below `max_bytes`).
pub fn take<T: Serialize>(items: impl IntoIterator<Item = T>, max_items: usize, max_bytes: usize) -> Page<T> {
    let mut taken = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = encoded_len(&item);
        if taken.len() == max_items || (!taken.is_empty() && bytes + size > max_bytes) {
            return Page { items: taken, more: true };
        }
        bytes += size;
        taken.push(item);
    }
    Page { items: taken, more: false }
}

/// Like [`take`], for a list read newest last (chat): keeps the newest items that fit,
/// still oldest first; `more` says older ones were left out.
pub fn take_newest<T: Serialize>(mut items: Vec<T>, max_bytes: usize) -> Page<T> {
    let mut bytes = 0;
    let mut keep = 0;
    for item in items.iter().rev() {
        let size = encoded_len(item);
        if keep > 0 && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        keep += 1;
    }
    let more = keep < items.len();
    let items = items.split_off(items.len() - keep);
    Page { items, more }
}

/// The length of an item's JSON, counted without building it.
pub fn encoded_len<T: Serialize>(item: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // A view of wire types always serialises; a failure would only undercount.
    let _ = serde_json::to_writer(&mut counter, item);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_stops_at_the_count() {
        let page = take(0..10, 4, usize::MAX);
        assert_eq!(page, Page { items: vec![0, 1, 2, 3], more: true });
        let page = take(0..4, 4, usize::MAX);
        assert_eq!(page, Page { items: vec![0, 1, 2, 3], more: false });
    }

    #[test]
    fn a_page_stops_at_the_byte_budget_but_takes_one() {
        let texts: Vec<String> = (0..10).map(|_| "x".repeat(98)).collect(); // 100 bytes each
        let page = take(texts.iter(), 50, 350);
        assert_eq!(page.items.len(), 3);
        assert!(page.more);
        let page = take(texts.iter(), 50, 10);
        assert_eq!(page.items.len(), 1, "the first item is always taken");
    }

    #[test]
    fn the_newest_that_fit_are_kept_in_order() {
        let texts: Vec<String> = (0..5).map(|n| format!("{n}{}", "x".repeat(97))).collect();
        let page = take_newest(texts.clone(), 250);
        assert_eq!(page.items, texts[3..].to_vec());
        assert!(page.more);
        let page = take_newest(texts.clone(), 10_000);
        assert_eq!(page.items, texts);
        assert!(!page.more);
    }

    #[test]
    fn encoded_length_matches_serde_json() {
        let value = ("naïve", 12, vec!["🎉"; 3]);
        assert_eq!(encoded_len(&value), serde_json::to_string(&value).unwrap().len());
    }
}
