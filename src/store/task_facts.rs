//! The compact form of a task-log fact (`task_log.fact`, see `tasks::append_log`): a
//! BLOB that reads back to exactly the JSON text the engine driver wrote (a
//! `crate::live::facts::LiveEvent`).
//!
//! Each of a task's ~4 rows repeats its queue id and name, direction, agent, customer
//! and channel names; a packed text (shape shared) still keeps each as a quoted JSON
//! leaf with its commas, and a state or direction as its whole word. Here a fact is a
//! byte code of its fields in the struct's order:
//! - a version byte ([`VERSION`]), the kind (`0` ENQUEUED, `1` CHANGED, `2` RESERVED,
//!   `3` CUSTOMER_MESSAGE, `4` AGENT_MESSAGE);
//! - a text (or null) as a LEB128 head `h`: `0` null, `1` the row's task id, `2` the
//!   row's conversation id, `3` an id (`objects::is_shared_id`: a queue's, an agent's)
//!   as the LEB128 row id of the shared object whose body is its JSON string — the
//!   object the events' and snapshots' references to that id name —, `4 + k` the
//!   `k`-th of [`PHRASES`], `4 + PHRASES.len() + n` the `n` UTF-8 bytes that follow;
//! - a time as the zigzag LEB128 of its distance from the row's `at`; `answerTime`
//!   (0 until an agent accepts) as `0`, or that plus 1.
//!
//! [`encode`] gives `None` for a text that would not read back the same (not written
//! from a `LiveEvent` as serde writes it); the caller stores it as before. A coded
//! fact refers to shared objects ([`refs`], which the sweep of unreferenced objects
//! marks from). [`PHRASES`] is part of the stored format: append to it, never change
//! or reorder it.

use super::objects;
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use crate::live::facts::{Fact, LiveEvent, TaskFacts};

/// The first byte of a coded fact: its format.
const VERSION: u8 = 1;

/// Texts coded as one head each (`4 + index`). Append only.
pub const PHRASES: &[&str] = &[
    "ACTIVE",
    "WRAP_UP",
    "CLOSED",
    "QUEUED",
    "RESERVED",
    "INBOUND",
    "OUTBOUND",
    "DIRECT_TRANSFER",
    "DIRECT_CONFERENCE",
    "CONSULT",
    "DONE",
    "AGENT_LOGOUT",
    "CANCELLED",
    "TRANSFERRED",
    "NO_AGENT_AVAILABLE",
    "FORCE_CLOSED",
    "RONA",
    "DECLINED",
    "Default",
];

const NULL: u64 = 0;
const ROW_TASK: u64 = 1;
const ROW_CONVERSATION: u64 = 2;
const ID_OBJECT: u64 = 3;
const PHRASE: u64 = 4;
const LITERAL: u64 = PHRASE + PHRASES.len() as u64;

/// What a task-log row's columns hold, which a coded fact refers to.
#[derive(Debug, Clone, Copy)]
pub struct LogRow<'a> {
    pub task_id: &'a str,
    pub conversation_id: &'a str,
    pub at: Millis,
}

/// Gives the row id of the shared object of an id, storing it if need be.
pub type IdObjects<'a> = &'a mut dyn FnMut(&str) -> StoreResult<i64>;
/// Gives the id a shared object (by row id) holds.
pub type ReadIds<'a> = &'a mut dyn FnMut(i64) -> StoreResult<String>;

/// The coded form of `fact` for `row`, or `None` when reading it back would not give
/// `fact` byte for byte; `ids` gives the shared object of each id it holds.
pub fn encode(fact: &str, row: &LogRow<'_>, ids: IdObjects<'_>) -> StoreResult<Option<Vec<u8>>> {
    let Ok(event) = serde_json::from_str::<LiveEvent>(fact) else {
        return Ok(None);
    };
    if serde_json::to_string(&event).ok().as_deref() != Some(fact) {
        return Ok(None);
    }
    let mut out = Writer {
        bytes: Vec::with_capacity(64),
        row,
        ids,
        named: Vec::new(),
    };
    out.bytes.push(VERSION);
    let (kind, agent, task) = match &event.fact {
        Fact::Enqueued(t) => (0, None, Some(t)),
        Fact::Changed(t) => (1, None, Some(t)),
        Fact::Reserved { agent_id, task } => (2, Some(agent_id), Some(task)),
        Fact::CustomerMessage => (3, None, None),
        Fact::AgentMessage => (4, None, None),
    };
    out.bytes.push(kind);
    out.text(Some(&event.conversation_id))?;
    out.time(event.at);
    if let Some(agent) = agent {
        out.text(Some(agent))?;
    }
    if let Some(t) = task {
        out.text(Some(&t.id))?;
        out.text(Some(&t.state))?;
        out.text(t.reason.as_deref())?;
        out.text(t.assigned_to.as_deref())?;
        out.text(Some(&t.queue_id))?;
        out.text(Some(&t.queue_name))?;
        out.text(Some(&t.direction))?;
        out.text(Some(&t.media_state))?;
        out.time(t.enqueue_time);
        match t.answer_time {
            0 => out.number(0),
            at => out.number(zigzag(at.wrapping_sub(row.at)).wrapping_add(1)),
        }
        out.text(t.customer_name.as_deref())?;
        out.text(t.channel_name.as_deref())?;
    }
    let (coded, named) = (out.bytes, out.named);
    // What is stored must read back as written: checked here rather than trusted.
    let mut known = |id: i64| {
        named
            .iter()
            .find(|(n, _)| *n == id)
            .map(|(_, text)| text.clone())
            .ok_or_else(|| corrupt("an id object not named"))
    };
    Ok(decode(&coded, row, &mut known)
        .is_ok_and(|back| back == fact)
        .then_some(coded))
}

/// The shared objects a coded fact refers to (its ids' objects).
pub fn refs(code: &[u8]) -> StoreResult<Vec<i64>> {
    let row = LogRow {
        task_id: "",
        conversation_id: "",
        at: 0,
    };
    let mut found = Vec::new();
    decode(code, &row, &mut |id| {
        found.push(id);
        Ok(String::new())
    })?;
    Ok(found)
}

/// The JSON text of a coded fact of `row`; `ids` reads the id a shared object holds.
pub fn decode(code: &[u8], row: &LogRow<'_>, ids: ReadIds<'_>) -> StoreResult<String> {
    let mut r = Reader {
        code,
        at: 0,
        row,
        ids,
    };
    if r.byte()? != VERSION {
        return Err(corrupt("an unknown version"));
    }
    let kind = r.byte()?;
    let conversation_id = r.required()?;
    let at = r.time()?;
    let agent = match kind {
        2 => Some(r.required()?),
        _ => None,
    };
    let task = match kind {
        0..=2 => Some(r.task()?),
        _ => None,
    };
    let fact = match (kind, agent, task) {
        (0, _, Some(t)) => Fact::Enqueued(t),
        (1, _, Some(t)) => Fact::Changed(t),
        (2, Some(agent_id), Some(task)) => Fact::Reserved { agent_id, task },
        (3, ..) => Fact::CustomerMessage,
        (4, ..) => Fact::AgentMessage,
        _ => return Err(corrupt("an unknown kind")),
    };
    if r.at != code.len() {
        return Err(corrupt("bytes after the fact"));
    }
    let event = LiveEvent {
        conversation_id,
        at,
        fact,
    };
    serde_json::to_string(&event).map_err(|e| corrupt(&e.to_string()))
}

struct Writer<'a, 'i> {
    bytes: Vec<u8>,
    row: &'a LogRow<'a>,
    ids: IdObjects<'i>,
    /// The id objects written, with their ids.
    named: Vec<(i64, String)>,
}

impl Writer<'_, '_> {
    fn text(&mut self, text: Option<&str>) -> StoreResult<()> {
        let Some(text) = text else {
            self.number(NULL);
            return Ok(());
        };
        if text == self.row.task_id {
            self.number(ROW_TASK);
        } else if text == self.row.conversation_id {
            self.number(ROW_CONVERSATION);
        } else if objects::is_shared_id(text) {
            let id = (self.ids)(text)?;
            self.named.push((id, text.to_owned()));
            self.number(ID_OBJECT);
            self.number(id as u64);
        } else if let Some(k) = PHRASES.iter().position(|p| *p == text) {
            self.number(PHRASE + k as u64);
        } else {
            self.number(LITERAL + text.len() as u64);
            self.bytes.extend_from_slice(text.as_bytes());
        }
        Ok(())
    }

    fn time(&mut self, at: Millis) {
        self.number(zigzag(at.wrapping_sub(self.row.at)));
    }

    fn number(&mut self, mut n: u64) {
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                return self.bytes.push(low);
            }
            self.bytes.push(low | 0x80);
        }
    }
}

struct Reader<'a, 'i> {
    code: &'a [u8],
    at: usize,
    row: &'a LogRow<'a>,
    ids: ReadIds<'i>,
}

impl Reader<'_, '_> {
    fn byte(&mut self) -> StoreResult<u8> {
        let b = self
            .code
            .get(self.at)
            .copied()
            .ok_or_else(|| corrupt("cut short"))?;
        self.at += 1;
        Ok(b)
    }

    fn number(&mut self) -> StoreResult<u64> {
        let mut n: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f)
                .checked_shl(shift)
                .ok_or_else(|| corrupt("a number too long"))?;
            if b & 0x80 == 0 {
                return Ok(n);
            }
            shift += 7;
            if shift > 63 {
                return Err(corrupt("a number too long"));
            }
        }
    }

    fn text(&mut self) -> StoreResult<Option<String>> {
        Ok(Some(match self.number()? {
            NULL => return Ok(None),
            ROW_TASK => self.row.task_id.to_owned(),
            ROW_CONVERSATION => self.row.conversation_id.to_owned(),
            ID_OBJECT => {
                let id =
                    i64::try_from(self.number()?).map_err(|_| corrupt("an object id too large"))?;
                (self.ids)(id)?
            }
            h if h < LITERAL => PHRASES[(h - PHRASE) as usize].to_owned(),
            h => {
                let len = usize::try_from(h - LITERAL).map_err(|_| corrupt("a text too long"))?;
                String::from_utf8(self.take(len)?.to_vec()).map_err(|_| corrupt("not UTF-8"))?
            }
        }))
    }

    fn required(&mut self) -> StoreResult<String> {
        self.text()?
            .ok_or_else(|| corrupt("a null where a text must be"))
    }

    fn take(&mut self, len: usize) -> StoreResult<&[u8]> {
        let end = self
            .at
            .checked_add(len)
            .ok_or_else(|| corrupt("cut short"))?;
        let bytes = self
            .code
            .get(self.at..end)
            .ok_or_else(|| corrupt("cut short"))?;
        self.at = end;
        Ok(bytes)
    }

    fn time(&mut self) -> StoreResult<Millis> {
        Ok(self.row.at.wrapping_add(unzigzag(self.number()?)))
    }

    fn task(&mut self) -> StoreResult<TaskFacts> {
        Ok(TaskFacts {
            id: self.required()?,
            state: self.required()?,
            reason: self.text()?,
            assigned_to: self.text()?,
            queue_id: self.required()?,
            queue_name: self.required()?,
            direction: self.required()?,
            media_state: self.required()?,
            enqueue_time: self.time()?,
            answer_time: match self.number()? {
                0 => 0,
                n => self.row.at.wrapping_add(unzigzag(n - 1)),
            },
            customer_name: self.text()?,
            channel_name: self.text()?,
        })
    }
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("task_log.fact: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TASK: &str = "0fb767a4-502e-4723-949a-2ac39eedf71b";
    const CONV: &str = "5d0c3a4e-6f0b-4b8e-9d57-1c2a3b4c5d6e";
    const AT: Millis = 1_796_467_796_946;

    /// A stand-in for the shared id objects: object `n + 1` holds the `n`-th id met.
    #[derive(Default)]
    struct Objects(Vec<String>);

    impl Objects {
        fn encode(&mut self, text: &str) -> Option<Vec<u8>> {
            let ids = &mut self.0;
            encode(text, &row(), &mut |id| {
                let n = match ids.iter().position(|k| k == id) {
                    Some(n) => n,
                    None => {
                        ids.push(id.to_owned());
                        ids.len() - 1
                    }
                };
                Ok(n as i64 + 1)
            })
            .unwrap()
        }

        fn decode(&self, code: &[u8]) -> StoreResult<String> {
            decode(code, &row(), &mut |id| {
                let n = usize::try_from(id - 1).map_err(|_| corrupt("no such object"))?;
                self.0
                    .get(n)
                    .cloned()
                    .ok_or_else(|| corrupt("no such object"))
            })
        }
    }

    fn row() -> LogRow<'static> {
        LogRow {
            task_id: TASK,
            conversation_id: CONV,
            at: AT,
        }
    }

    fn task(answer_time: Millis) -> serde_json::Value {
        json!({"id": TASK, "state": "ACTIVE", "reason": null,
               "assignedTo": "7e4b1c2d-3a4f-4e5d-8c6b-9a0f1e2d3c4b",
               "queueId": "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b", "queueName": "Billing — EU",
               "direction": "INBOUND", "mediaState": "ACTIVE", "enqueueTime": AT - 65_000,
               "answerTime": answer_time, "customerName": "Zoë", "channelName": "web"})
    }

    /// A task fact of `kind` with the fields of `task`.
    fn task_fact(kind: &str, task: serde_json::Value) -> serde_json::Value {
        let mut fact = json!({"kind": kind});
        let fields = task.as_object().unwrap().clone();
        fact.as_object_mut().unwrap().extend(fields);
        json!({"conversationId": CONV, "at": AT, "fact": fact})
    }

    #[test]
    fn facts_read_back_byte_for_byte_and_shorter() {
        let mut enqueued = task(0);
        enqueued["assignedTo"] = json!(null);
        enqueued["customerName"] = json!(null);
        let mut changed = task(AT - 1_000);
        changed["reason"] = json!("NO_AGENT_AVAILABLE");
        changed["state"] = json!("a state of a later version");
        let facts = [
            task_fact("ENQUEUED", enqueued),
            task_fact("CHANGED", changed),
            json!({"conversationId": CONV, "at": AT, "fact": {"kind": "RESERVED",
                   "agentId": "agent-7", "task": task(0)}}),
            json!({"conversationId": "other", "at": AT + 3, "fact": {"kind": "CUSTOMER_MESSAGE"}}),
            json!({"conversationId": CONV, "at": 5, "fact": {"kind": "AGENT_MESSAGE"}}),
        ];
        let mut objects = Objects::default();
        for fact in facts {
            let text = fact.to_string();
            let code = objects
                .encode(&text)
                .unwrap_or_else(|| panic!("not coded: {text}"));
            assert_eq!(objects.decode(&code).unwrap(), text);
            assert!(code.len() * 2 < text.len(), "{} of {text}", code.len());
        }
        let reserved = json!({"conversationId": CONV, "at": AT, "fact": {"kind": "RESERVED",
                              "agentId": "agent-7", "task": task(AT + 1)}})
        .to_string();
        // Row ids, kinds, states, times and ids (their objects') are a byte or three
        // each; names and an agent id that is no UUID as they are.
        let code = objects.encode(&reserved).unwrap();
        assert_eq!(
            code.len(),
            2 + 1 + 1 + 8 + 3 + 2 + 2 + 15 + 2 + 3 + 1 + 5 + 4,
            "{code:?}"
        );
        // The assignee's object, then the queue's (met first, in the ENQUEUED fact).
        assert_eq!(refs(&code).unwrap(), vec![2, 1]);
        assert_eq!(
            objects.0[..2],
            [
                task(0)["queueId"].as_str().unwrap(),
                task(0)["assignedTo"].as_str().unwrap()
            ]
        );
    }

    #[test]
    fn a_text_that_would_not_read_back_the_same_is_not_coded() {
        let plain = json!({"conversationId": CONV, "at": AT, "fact": {"kind": "AGENT_MESSAGE"}});
        // Other key order, spaces, an unknown field, not a fact at all.
        for text in [
            r#"{"at":1,"conversationId":"c","fact":{"kind":"AGENT_MESSAGE"}}"#.to_string(),
            format!(" {plain}"),
            r#"{"conversationId":"c","at":1,"fact":{"kind":"AGENT_MESSAGE"},"x":1}"#.to_string(),
            r#"{"a":1}"#.to_string(),
        ] {
            assert_eq!(Objects::default().encode(&text), None, "{text}");
        }
    }

    #[test]
    fn a_broken_code_is_corrupt_not_a_panic() {
        let text = json!({"conversationId": CONV, "at": AT, "fact": {"kind": "RESERVED",
                          "agentId": "agent-7", "task": task(AT + 1)}})
        .to_string();
        let mut objects = Objects::default();
        let code = objects.encode(&text).unwrap();
        for cut in 0..code.len() {
            assert!(objects.decode(&code[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = code.clone();
        longer.push(0);
        assert!(objects.decode(&longer).is_err());
        // An id object that is not there.
        assert!(Objects::default().decode(&code).is_err());
        for bad in [
            [2u8, 0].as_slice(),
            &[1, 9, 2, 0],
            &[
                1, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
        ] {
            assert!(objects.decode(bad).is_err(), "{bad:?}");
        }
    }
}
