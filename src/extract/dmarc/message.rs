//! Messages that deliver reports: receivers mail them as attachments (zip, gzip, XML, or
//! `application/octet-stream`), sometimes several in one message. Every attachment that
//! holds a report is read; the message itself is then no (sender, client) pair, it is the
//! envelope of the data.
//!
//! Reading a message's body costs far more than reading its header, so the body is only
//! read for messages whose header says they may carry a report ([`may_carry_report`]).

use mail_parser::{MessageParser, MessagePart, MimeHeaders, PartType};

use super::{DmarcError, Report, packing};

/// Content types an attached report comes in.
const REPORT_TYPES: [&str; 8] = [
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "application/x-zip",
    "application/x-zip-compressed",
    "application/xml",
    "application/octet-stream",
    "text/xml",
];

/// Nested `message/rfc822` parts are followed this deep.
const MAX_NESTING: usize = 3;

/// Decides from a header block alone whether the body is worth reading: the subject RFC
/// 7489 §7.2.1.1 and RFC 9990 prescribe (`Report Domain: ...`), or a top-level content
/// type a report is sent as. A report in a message with neither is not found (said in
/// docs/dmarc.md); every other message keeps the header-only speed.
pub fn may_carry_report(header: &[u8]) -> bool {
    // Called for every stored message: only the two fields that matter are copied.
    let mut field: Option<(Field, Vec<u8>)> = None;
    for line in header.split(|&b| b == b'\n') {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some((_, value)) = field.as_mut() {
                value.extend_from_slice(line);
            }
            continue;
        }
        if field
            .take()
            .is_some_and(|(kind, value)| says_report(kind, &value))
        {
            return true;
        }
        field = field_of_interest(line);
    }
    field.is_some_and(|(kind, value)| says_report(kind, &value))
}

#[derive(Clone, Copy)]
enum Field {
    Subject,
    ContentType,
}

fn field_of_interest(line: &[u8]) -> Option<(Field, Vec<u8>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii();
    let kind = if name.eq_ignore_ascii_case(b"subject") {
        Field::Subject
    } else if name.eq_ignore_ascii_case(b"content-type") {
        Field::ContentType
    } else {
        return None;
    };
    Some((kind, line[colon + 1..].to_vec()))
}

fn says_report(kind: Field, value: &[u8]) -> bool {
    let value = String::from_utf8_lossy(value).trim().to_ascii_lowercase();
    match kind {
        Field::Subject => {
            value.starts_with("report domain:") || value.starts_with("report-domain:")
        }
        Field::ContentType => {
            let ctype = value.split(';').next().unwrap_or("").trim();
            REPORT_TYPES.contains(&ctype)
        }
    }
}

/// Every report attached to `raw` (a whole message). `Ok(vec![])` when it carries none.
/// A report that cannot be read is an error naming the attachment.
pub fn reports_in_message(raw: &[u8], limit: u64) -> Result<Vec<Report>, DmarcError> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Ok(Vec::new());
    };
    let mut reports = Vec::new();
    collect(&message, limit, 0, &mut reports)?;
    Ok(reports)
}

fn collect(
    message: &mail_parser::Message<'_>,
    limit: u64,
    depth: usize,
    out: &mut Vec<Report>,
) -> Result<(), DmarcError> {
    for (index, part) in message.parts.iter().enumerate() {
        if let PartType::Message(inner) = &part.body {
            if depth < MAX_NESTING {
                collect(inner, limit, depth + 1, out)?;
            }
            continue;
        }
        let Some(bytes) = report_bytes(part) else {
            continue;
        };
        let name = match part.attachment_name() {
            Some(n) => format!("attachment {n}"),
            None => format!("MIME part {}", index + 1),
        };
        let found = packing::read_packed(bytes, limit, 0).map_err(|e| e.within(&name))?;
        out.extend(found);
    }
    Ok(())
}

/// The decoded bytes of a part that may be a report: typed as one, and starting like one
/// (an octet-stream may be anything; only gzip, zip or report XML are taken).
fn report_bytes<'a>(part: &'a MessagePart<'_>) -> Option<&'a [u8]> {
    let ctype = part.content_type()?;
    let full = format!(
        "{}/{}",
        ctype.ctype().to_ascii_lowercase(),
        ctype.subtype().unwrap_or("").to_ascii_lowercase()
    );
    if !REPORT_TYPES.contains(&full.as_str()) {
        return None;
    }
    let bytes = match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
        PartType::Text(t) => t.as_bytes(),
        _ => return None,
    };
    (packing::is_gzip(bytes) || packing::is_zip(bytes) || super::xml::is_feedback_xml(bytes))
        .then_some(bytes)
}
