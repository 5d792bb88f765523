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

# SSL/TLS (RFC 8446 section 5.1, RFC 5246 section 6.2; SSLv2's record
# header). The client opens with a handshake record (type 22, version 3.x)
# carrying a client hello (handshake type 1), or with an SSLv2 header (high
# bit set, two length bytes) and message type 1 (client hello) with version
# 2 or 3.x. A TLS client hello alone is enough to try the analyzer (the
# server may answer in another protocol, which the analyzer then rejects) ...
signature weir_ssl_client {
  ip-proto == tcp
  tcp-state originator
  payload /^(\x16\x03[\x00-\x04][\x00-\xff][\x00-\xff]\x01|[\x80-\xff][\x00-\xff]\x01(\x00\x02|\x03[\x00-\x04]))/
}

signature weir_tls_client_hello {
  ip-proto == tcp
  tcp-state originator
  payload /^\x16\x03[\x00-\x03][\x00-\xff][\x00-\xff]\x01[\x00-\xff]{3}\x03[\x00-\x03]/
  enable "ssl"
}

# ... and the server answers with a server hello (handshake type 2) or an
# alert record (type 21), or an SSLv2 server hello (message type 4,
# certificate type, version 2).
signature weir_ssl_server {
  ip-proto == tcp
  tcp-state responder
  payload /^(\x16\x03[\x00-\x04][\x00-\xff][\x00-\xff]\x02|\x15\x03[\x00-\x04]\x00\x02|[\x80-\xff][\x00-\xff]\x04[\x00\x01][\x00-\xff]\x00\x02)/
  requires-reverse-signature weir_ssl_client
  enable "ssl"
}

# DTLS (RFC 6347 section 4.1, RFC 9147): a handshake record (type 22) of
# DTLS 1.0, 1.2 or 1.3 (versions 254.255, 254.253, 254.252) in epoch 0,
# holding a client hello (type 1) from the originator ...
signature weir_dtls_client {
  ip-proto == udp
  payload /^\x16\xfe[\xfc\xfd\xff]\x00\x00[\x00-\xff]{8}\x01/
}

# ... answered by a hello verify request (type 3) or a server hello (type 2).
signature weir_dtls_server {
  ip-proto == udp
  payload /^\x16\xfe[\xfc\xfd\xff]\x00\x00[\x00-\xff]{8}[\x02\x03]/
  requires-reverse-signature weir_dtls_client
  enable "dtls"
}

# PostgreSQL (frontend/backend protocol 3.0). A client that wants TLS opens
# with an SSLRequest: length 8 and the request code 1234.5679 ...
signature weir_postgresql_ssl_request {
  ip-proto == tcp
  tcp-state originator
  payload /^\x00\x00\x00\x08\x04\xd2\x16\x2f/
}

# ... which the server answers with one byte, S (go ahead) or N (refused).
signature weir_postgresql_ssl_answer {
  ip-proto == tcp
  tcp-state responder
  payload /^[SN]/
  requires-reverse-signature weir_postgresql_ssl_request
  enable "postgresql"
}

# Otherwise the client opens with a StartupMessage of protocol 3.x, whose
# parameters name the user ...
signature weir_postgresql_startup {
  ip-proto == tcp
  tcp-state originator
  payload /^[\x00-\xff]{4}\x00\x03[\x00-\xff]{2}.{0,256}user\x00/
}

# ... and the server answers with a typed message (an authentication request
# R, an error E or a notice N) of less than 64 KiB.
signature weir_postgresql_answer {
  ip-proto == tcp
  tcp-state responder
  payload /^[REN]\x00\x00[\x00-\xff]{2}/
  requires-reverse-signature weir_postgresql_startup
  enable "postgresql"
}

# IRC (RFC 2812 section 3.1): a client registers with NICK and USER, in
# either order, each at the start of a line ...
signature weir_irc_client {
  ip-proto == tcp
  tcp-state originator
  payload /(|.*[\r\n]) *([nN][iI][cC][kK] +[^\r\n]+[\r\n]+ *[uU][sS][eE][rR] +|[uU][sS][eE][rR] +[^\r\n]+[\r\n]+ *[nN][iI][cC][kK] +)/
  requires-reverse-signature weir_irc_server
  enable "irc"
}

# ... and the server sends numeric replies (three digits and a space, after
# an optional :prefix).
signature weir_irc_server {
  ip-proto == tcp
  tcp-state responder
  payload /^(|.*[\r\n])(:[^ \r\n]+ )?[0-9][0-9][0-9] /
}

# Two servers linking both introduce themselves with SERVER, its name, hop
# count and a description (RFC 2813 section 4.1.2).
signature weir_irc_server_link {
  ip-proto == tcp
  payload /(|.*[\r\n]) *[sS][eE][rR][vV][eE][rR] +[^ ]+ +[0-9]+ +:[^\r\n]+[\r\n]/
}

signature weir_irc_server_link_reply {
  ip-proto == tcp
  payload /(|.*[\r\n]) *[sS][eE][rR][vV][eE][rR] +[^ ]+ +[0-9]+ +:[^\r\n]+[\r\n]/
  requires-reverse-signature weir_irc_server_link
  enable "irc"
}

# RDP (MS-RDPBCGR 2.2.1.1, 2.2.1.2): the client opens with a TPKT frame
# (version 3, reserved 0, two length bytes) holding an X.224 connection
# request (COTP PDU type 0xe0) ...
signature weir_rdp_request {
  ip-proto == tcp
  tcp-state originator
  payload /^\x03\x00[\x00-\xff]{3}\xe0/
  requires-reverse-signature weir_rdp_confirm
  enable "rdp"
}

# ... which the server answers with a connection confirm (type 0xd0).
signature weir_rdp_confirm {
  ip-proto == tcp
  tcp-state responder
  payload /^\x03\x00[\x00-\xff]{3}\xd0/
}

# QUIC (RFC 9000 §17.2.2): a long header (form and fixed bits set) of
# packet type Initial (0) with version 1 ...
signature weir_quic_v1_initial {
  ip-proto == udp
  payload /^[\xc0-\xcf]\x00\x00\x00\x01/
  enable "quic"
}

# ... or QUIC v2 (RFC 9369 §3.2: Initial is packet type 1, version 0x6b3343cf).
signature weir_quic_v2_initial {
  ip-proto == udp
  payload /^[\xd0-\xdf]\x6b\x33\x43\xcf/
  enable "quic"
}

# LDAP (RFC 4511 section 4.1.1): the client's first message is a SEQUENCE
# (BER length in short or long form) holding an INTEGER message id of one
# to four bytes and a bind (application 0), search (3) or extended (23)
# request ...
signature weir_ldap_client_tcp {
  ip-proto == tcp
  payload /^\x30([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\x02(\x01[\x00-\xff]|\x02[\x00-\xff]{2}|\x03[\x00-\xff]{3}|\x04[\x00-\xff]{4})[\x60\x63\x77]/
}

# ... and the server answers with a SEQUENCE too.
signature weir_ldap_server_tcp {
  ip-proto == tcp
  payload /^\x30/
  requires-reverse-signature weir_ldap_client_tcp
  enable "ldap_tcp"
}

signature weir_ldap_client_udp {
  ip-proto == udp
  payload /^\x30([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\x02(\x01[\x00-\xff]|\x02[\x00-\xff]{2}|\x03[\x00-\xff]{3}|\x04[\x00-\xff]{4})[\x60\x63\x77]/
}

signature weir_ldap_server_udp {
  ip-proto == udp
  payload /^\x30/
  requires-reverse-signature weir_ldap_client_udp
  enable "ldap_udp"
}

# Kerberos (RFC 4120 section 5.4.1): an AS-REQ or TGS-REQ (application 10
# or 12) is a SEQUENCE whose first fields are pvno [1] = 5 and msg-type
# [2]; over TCP a 4-byte record length comes first (section 7.2.2).
signature weir_krb_udp_request {
  ip-proto == udp
  payload /^[\x6a\x6c]([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\x30([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\xa1\x03\x02\x01\x05\xa2\x03\x02\x01/
  enable "krb"
}

signature weir_krb_tcp_request {
  ip-proto == tcp
  payload /^[\x00-\xff]{4}[\x6a\x6c]([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\x30([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\xa1\x03\x02\x01\x05\xa2\x03\x02\x01/
  enable "krb_tcp"
}

# Replies (AS-REP 11, TGS-REP 13, KRB-ERROR 30) start with pvno [0] = 5
# and msg-type [1] (sections 5.4.2, 5.9.1).
signature weir_krb_udp_reply {
  ip-proto == udp
  payload /^[\x6b\x6d\x7e]([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\x30([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\xa0\x03\x02\x01\x05\xa1\x03\x02\x01/
  enable "krb"
}

signature weir_krb_tcp_reply {
  ip-proto == tcp
  payload /^[\x00-\xff]{4}[\x6b\x6d\x7e]([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\x30([\x00-\x7f]|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x84[\x00-\xff]{4})\xa0\x03\x02\x01\x05\xa1\x03\x02\x01/
  enable "krb_tcp"
}

# SOCKS 4 (and 4a): the client sends version 4, CONNECT or BIND, a port,
# an address and a NUL-terminated user id ...
signature weir_socks4_client {
  ip-proto == tcp
  tcp-state originator
  payload /^\x04[\x01\x02][\x00-\xff]{6}[\x01-\xff]{0,64}\x00/
}

# ... which the server answers with a null byte and a status 90 to 93.
signature weir_socks4_server {
  ip-proto == tcp
  tcp-state responder
  payload /^\x00[\x5a-\x5d]/
  requires-reverse-signature weir_socks4_client
  enable "socks"
}

# SOCKS 5 (RFC 1928 section 3): the client offers at least one method,
# the first an assigned (0 to 3, 5 to 9) or private (0x80 to 0xfe) one ...
signature weir_socks5_client {
  ip-proto == tcp
  tcp-state originator
  payload /^\x05[\x01-\xff][\x00-\x03\x05-\x09\x80-\xfe]/
}

# ... and the server picks one, or none (0xff).
signature weir_socks5_server {
  ip-proto == tcp
  tcp-state responder
  payload /^\x05[\x00-\x03\x05-\x09\x80-\xff]/
  requires-reverse-signature weir_socks5_client
  enable "socks"
}

# RDP over UDP (MS-RDPEUDP 3.1.5.1.1): the client's SYN has snSourceAck
# -1 and the SYN flag, and is padded to about 1232 bytes.
signature weir_rdpeudp_syn {
  ip-proto == udp
  payload-size >= 1132
  payload-size <= 1232
  payload /^\xff\xff\xff\xff[\x00-\xff]{3}\x01/
  enable "rdpeudp"
}

# DCE/RPC over TCP (DCE 1.1 RPC, chapter 12.6): a PDU header of version 5,
# minor version 0 or 1, a PDU type up to 19, the flags, and a data
# representation label whose integer byte order is big (0) or little (1)
# endian.
signature weir_dce_rpc {
  ip-proto == tcp
  payload /^\x05[\x00\x01][\x00-\x13][\x00-\xff][\x00\x10]/
  enable "dce_rpc"
}
