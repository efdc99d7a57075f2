//! Small textual SDP helpers (str0m keeps its parsed SDP types private).

/// Local ICE ufrags (`a=ice-ufrag:`) in an SDP we produced, deduplicated.
pub(crate) fn ice_ufrags(sdp: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for l in sdp.lines() {
        if let Some(u) = l.trim().strip_prefix("a=ice-ufrag:") {
            let u = u.trim();
            if !u.is_empty() && !out.contains(&u) {
                out.push(u);
            }
        }
    }
    out
}

/// `(mid, is_video)` of every audio/video m-line of an SDP, in order.
pub(crate) fn media_mids(sdp: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut cur: Option<bool> = None;
    for l in sdp.lines().map(str::trim) {
        if let Some(m) = l.strip_prefix("m=") {
            cur = match m.split_whitespace().next() {
                Some("audio") => Some(false),
                Some("video") => Some(true),
                _ => None,
            };
        } else if let (Some(video), Some(mid)) = (cur, l.strip_prefix("a=mid:")) {
            out.push((mid.trim(), video));
            cur = None;
        }
    }
    out
}

/// The client's publish offer with `a=sendrecv` turned into `a=sendonly` in audio/video
/// sections, so the SFU answers `recvonly`: the publish connection never carries media to the
/// client (browsers' `addTrack` offers sendrecv; JSEP lets the answerer narrow it).
pub(crate) fn publish_offer_sendonly(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    let mut av = false;
    for l in sdp.split_inclusive('\n') {
        let t = l.trim_end();
        if let Some(m) = t.strip_prefix("m=") {
            av = m.starts_with("audio ") || m.starts_with("video ");
        }
        if av && t == "a=sendrecv" {
            out.push_str("a=sendonly");
            out.push_str(&l[t.len()..]);
        } else {
            out.push_str(l);
        }
    }
    out
}

/// Number of audio/video m-lines in a client's offer that send media to us (port not 0,
/// direction sendrecv or sendonly — sendrecv is the default).
pub(crate) fn sending_media_count(sdp: &str) -> usize {
    let mut count = 0;
    let mut cur: Option<bool> = None; // Some(sending?) inside an audio/video section
    for l in sdp.lines().map(str::trim) {
        if let Some(m) = l.strip_prefix("m=") {
            if cur == Some(true) {
                count += 1;
            }
            let mut it = m.split_whitespace();
            let kind = it.next().unwrap_or("");
            let port = it.next().unwrap_or("0");
            cur = if (kind == "audio" || kind == "video") && port != "0" {
                Some(true)
            } else {
                None
            };
        } else if cur.is_some() && (l == "a=recvonly" || l == "a=inactive") {
            cur = Some(false);
        }
    }
    if cur == Some(true) {
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=ice-ufrag:abcd\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendrecv\r\n\
        m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=sendonly\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:3\r\na=recvonly\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:4\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:5\r\n";

    #[test]
    fn counts_sending_media() {
        assert_eq!(sending_media_count(OFFER), 3); // mids 0, 1, 5
        assert_eq!(sending_media_count(""), 0);
    }

    #[test]
    fn lists_media_mids() {
        assert_eq!(
            media_mids(OFFER),
            vec![
                ("0", false),
                ("1", true),
                ("2", true),
                ("3", true),
                ("5", false)
            ]
        );
    }

    #[test]
    fn publish_offer_becomes_sendonly() {
        let o = publish_offer_sendonly(OFFER);
        assert_eq!(o.len(), OFFER.len(), "same length, CRLF kept");
        assert!(!o.contains("a=sendrecv"));
        assert_eq!(o.matches("a=sendonly\r\n").count(), 3);
        assert!(o.contains("a=recvonly\r\n"), "recvonly untouched");
        let app = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=sendrecv\n";
        assert_eq!(
            publish_offer_sendonly(app),
            app,
            "only audio/video sections"
        );
    }

    #[test]
    fn finds_ufrags() {
        assert_eq!(ice_ufrags(OFFER), vec!["abcd"]);
        assert!(ice_ufrags("v=0\r\n").is_empty());
    }
}
