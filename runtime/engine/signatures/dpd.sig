# weir's protocol detection rules, loaded unless --no-dpd-signatures is given.
#
# A rule with an `enable` action attaches that analyzer to a connection whose
# first bytes (dpd_buffer_size, dpd_max_packets) look like the protocol; the
# analyzer replays those bytes and then confirms the protocol (the connection's
# service) or reports a violation. Patterns are anchored at the start of each
# direction's reassembled stream.

# HTTP/1.x (RFC 9112). Either side alone is enough, so that a connection whose
# other side already overflowed the buffer is still found. The originator
# opens with a request method: those of the IANA method registry, WebDAV's
# (RFC 4918, RFC 3253, RFC 5842), Exchange's B* and subscription methods, and
# RPC over HTTP's.
signature weir_http_request {
  ip-proto == tcp
  tcp-state originator
  payload /^[[:space:]]*(GET|POST|HEAD|PUT|CONNECT|OPTIONS|DELETE|PATCH|TRACE|QUERY|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|SEARCH|REPORT|ACL|BASELINE-CONTROL|BIND|REBIND|UNBIND|CHECKIN|CHECKOUT|UNCHECKOUT|LABEL|LINK|UNLINK|MERGE|MKACTIVITY|MKCALENDAR|MKREDIRECTREF|MKWORKSPACE|ORDERPATCH|UPDATE|VERSION-CONTROL|BCOPY|BDELETE|BMOVE|BPROPFIND|BPROPPATCH|NOTIFY|POLL|SUBSCRIBE|UNSUBSCRIBE|X-MS-ENUMATTS|RPC_IN_DATA|RPC_OUT_DATA)[[:space:]]*/
  enable "http"
}

# The responder opens with a status line's protocol name and major version.
signature weir_http_status {
  ip-proto == tcp
  tcp-state responder
  payload /^[hH][tT][tT][pP]\/[0-9]/
  enable "http"
}

# FTP (RFC 959): the client logs in with USER at the start of a line ...
signature weir_ftp_user {
  ip-proto == tcp
  tcp-state originator
  payload /(|.*[\r\n]) *[uU][sS][eE][rR] /
}

# ... after the server's greeting (220 ready, or 120 ready soon), answered by
# 230 (logged in) or 331 (password needed).
signature weir_ftp_greeting {
  ip-proto == tcp
  tcp-state responder
  payload /[\r\n ]*(220|120)[^0-9].*[\r\n] *(230|331)[^0-9]/
  requires-reverse-signature weir_ftp_user
  enable "ftp"
}

# SMTP (RFC 5321 section 3.1): the server greets with reply code 220 (a
# multi-line greeting continues with "220-") ...
signature weir_smtp_greeting {
  ip-proto == tcp
  tcp-state responder
  payload /^[[:space:]]*220[ \-\r\n]/
}

# ... and the client opens the session with EHLO or, from older clients,
# HELO (section 4.1.1.1), a space and its domain.
signature weir_smtp_hello {
  ip-proto == tcp
  tcp-state originator
  payload /^[[:space:]]*([eE][hH][lL][oO]|[hH][eE][lL][oO])[ \r\n]/
  requires-reverse-signature weir_smtp_greeting
  enable "smtp"
}

# SSH (RFC 4253 §4.2): both sides open with an identification line
# `SSH-protoversion-softwareversion`, protocol version 1.x or 2.0.
signature weir_ssh_server {
  ip-proto == tcp
  tcp-state responder
  payload /^SSH-[12]\./
}

signature weir_ssh_client {
  ip-proto == tcp
  tcp-state originator
  payload /^SSH-[12]\./
  requires-reverse-signature weir_ssh_server
  enable "ssh"
}
