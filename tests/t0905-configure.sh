#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0905-configure.sh -- --configure ADDRESS beyond msmtp: when the domain
# has no RFC 6186 SRV record, the provider's autoconfig document
# (https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS,
# then https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml, then
# Thunderbird's ISPDB https://autoconfig.thunderbird.net/v1.1/DOMAIN),
# served by tests/fake/autoconfig.py over HTTPS (the test CA) through
# YUBIN_AUTOCONFIG_URL / YUBIN_AUTOCONFIG_CA; DNS answered by
# tests/fake/dns_srv.py through a private /etc/resolv.conf (in_resolv).
# The exact block printed, the exact requests made and in which order;
# hostile documents (too large, not XML, a DOCTYPE, ...) warned about,
# each by its reason, and bounded. SRV records (t0900, next to msmtp)
# come first.
# The case bodies are strings that test_case (lib.sh) evaluates.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout unshare
test_pki
ACCEPT='Accept: application/xml, text/xml'
WK=.well-known/autoconfig/mail/config-v1.1.xml

# dns_start: the test's DNS answerer (one SRV record, for srv.test;
# NXDOMAIN for every other name) -> $NS
dns_start() {
    for _ in 1 2 3 4 5; do   # another test may hold 127.0.0.N:53
        NS=127.0.0.$((RANDOM % 200 + 20))
        start_bg dns "$PYTHON" "$TESTS_DIR/fake/dns_srv.py" --addr "$NS" \
            --port 53 --srv _submission._tcp.srv.test=0,1,587,mail.srv.test \
            && return 0
    done
    return 1
}

# ac_start PATH=FILE...: the autoconfig server -> $AC_URL, $AC_LOG
ac_start() {
    AC_LOG=$SCRATCH/ac.log
    : > "$AC_LOG"
    local a=()
    for d in "$@"; do a+=(--doc "$d"); done
    start_bg autoconfig "$PYTHON" "$TESTS_DIR/fake/autoconfig.py" \
        --cert "$TEST_CERT" --key "$TEST_KEY" --log "$AC_LOG" "${a[@]}" ||
        return 1
    AC_URL=https://127.0.0.1:$BG_PORT
}

# configure ADDRESS: yubin --configure=ADDRESS -> $RC $OUT $ERR $SECS
configure() {
    local t0=$SECONDS
    OUT=$SCRATCH/out ERR=$SCRATCH/err
    YUBIN_AUTOCONFIG_URL=$AC_URL YUBIN_AUTOCONFIG_CA=${CA-$TEST_CA} \
        in_resolv "$NS" timeout 60 "$YUBIN" --configure="$1" \
        > "$OUT" 2> "$ERR"
    RC=$?
    SECS=$((SECONDS - t0))
}

# doc FILE HOST PORT SOCKET USERNAME AUTH...: a config-v1.1.xml document
doc() {
    local f=$1 host=$2 port=$3 sock=$4 user=$5
    shift 5
    {
        printf '<?xml version="1.0" encoding="UTF-8"?>\n'
        printf '<!-- a comment <outgoingServer> -->\n'
        printf '<clientConfig version="1.1">\n <emailProvider id="x">\n'
        printf '  <displayName>Mail &amp; more</displayName>\n'
        printf '  <incomingServer type="imap"><hostname>imap.x</hostname>'
        printf '<port>993</port><socketType>SSL</socketType>'
        printf '</incomingServer>\n'
        printf "  <outgoingServer type='smtp'>\n"
        printf '   <hostname> %s </hostname>\n   <port>%s</port>\n' \
            "$host" "$port"
        printf '   <socketType>%s</socketType>\n' "$sock"
        printf '   <username>%s</username>\n' "$user"
        printf '   <authentication>%s</authentication>\n' "$@"
        printf '  </outgoingServer>\n'
        printf '  <outgoingServer type="smtp"><hostname>second.x</hostname>'
        printf '<port>25</port><socketType>plain</socketType>'
        printf '</outgoingServer>\n </emailProvider>\n</clientConfig>\n'
    } > "$f"
}

test_case 'first autoconfig.DOMAIN, asked with the address' <<'CASE'
dns_start || return 1
doc "$SCRATCH/a.xml" smtp.a.test 465 SSL '%EMAILADDRESS%' password-cleartext
ac_start "/autoconfig.a.test/mail/config-v1.1.xml?emailaddress=joe%40a.test=$SCRATCH/a.xml" ||
    return 1
configure joe@a.test
is "$RC" 0 "exit 0"
is "$(cat "$OUT")" "# - copy this to your configuration file ~/.config/yubin/config
# - found in https://autoconfig.a.test/mail/config-v1.1.xml?emailaddress=joe%40a.test
# - add your password to the key ring: yubin --store-password -a joe@a.test
account joe@a.test
host smtp.a.test
port 465
tls on
tls_starttls off
auth on
user joe@a.test
from joe@a.test" "the block: implicit TLS, the whole address as user"
is "$(cat "$ERR")" "" "nothing on stderr"
is "$(cat "$AC_LOG")" "GET /autoconfig.a.test/mail/config-v1.1.xml?emailaddress=joe%40a.test $ACCEPT" \
    "one request: the first URL"
CASE

test_case 'then DOMAIN/.well-known, then the ISPDB' <<'CASE'
dns_start || return 1
doc "$SCRATCH/b.xml" smtp.b.test 587 STARTTLS '%EMAILLOCALPART%' plain
doc "$SCRATCH/c.xml" 'mx.%EMAILDOMAIN%' 2525 STARTTLS '' password-encrypted
ac_start "/b.test/$WK=$SCRATCH/b.xml" \
    "/autoconfig.thunderbird.net/v1.1/c.test=$SCRATCH/c.xml" || return 1
configure joe@b.test
is "$RC" 0 "b.test: exit 0"
is "$(grep -v '^#' "$OUT")" "account joe@b.test
host smtp.b.test
port 587
tls on
tls_starttls on
auth on
user joe
from joe@b.test" "b.test: STARTTLS, %EMAILLOCALPART% as user"
is "$(grep '^# - found' "$OUT")" "# - found in https://b.test/$WK" \
    "b.test: says where"
is "$(cat "$AC_LOG")" "GET /autoconfig.b.test/mail/config-v1.1.xml?emailaddress=joe%40b.test $ACCEPT
GET /b.test/$WK $ACCEPT" "b.test: two requests, in order"
: > "$AC_LOG"
configure joe@c.test
is "$RC" 0 "c.test: exit 0"
is "$(grep -v '^#' "$OUT")" "account joe@c.test
host mx.c.test
port 2525
tls on
tls_starttls on
auth on
user joe@c.test
from joe@c.test" "c.test: %EMAILDOMAIN% in the host; no username: the address"
is "$(cat "$AC_LOG")" "GET /autoconfig.c.test/mail/config-v1.1.xml?emailaddress=joe%40c.test $ACCEPT
GET /c.test/$WK $ACCEPT
GET /autoconfig.thunderbird.net/v1.1/c.test $ACCEPT" "c.test: three requests, in order"
CASE

test_case 'OAuth2: the preset for Gmail and Microsoft 365, a note elsewhere' <<'CASE'
dns_start || return 1
doc "$SCRATCH/g.xml" smtp.gmail.com 465 SSL '%EMAILADDRESS%' OAuth2 password-cleartext
doc "$SCRATCH/m.xml" smtp.office365.com 587 STARTTLS '%EMAILADDRESS%' OAuth2
doc "$SCRATCH/o.xml" smtp.o.test 587 STARTTLS '%EMAILLOCALPART%' OAuth2
ac_start "/autoconfig.thunderbird.net/v1.1/g.test=$SCRATCH/g.xml" \
    "/m.test/$WK=$SCRATCH/m.xml" "/o.test/$WK=$SCRATCH/o.xml" || return 1
configure joe@g.test
is "$RC" 0 "Gmail: exit 0"
is "$(cat "$OUT")" "# - copy this to your configuration file ~/.config/yubin/config
# - found in https://autoconfig.thunderbird.net/v1.1/g.test
# - warning: the host does not match the mail domain; please check
# - sign in once: yubin --login -a joe@g.test
account joe@g.test
host smtp.gmail.com
port 465
tls on
tls_starttls off
auth on
user joe@g.test
from joe@g.test
oauth2_provider google" "Gmail: the OAuth 2.0 preset"
configure joe@m.test
is "$(grep -v '^#' "$OUT" | tail -n 3)" "user joe@m.test
from joe@m.test
oauth2_provider microsoft" "Microsoft 365: the OAuth 2.0 preset"
configure joe@o.test
is "$(cat "$OUT")" "# - copy this to your configuration file ~/.config/yubin/config
# - found in https://o.test/$WK
# - the provider offers OAuth 2.0: see the oauth2_* keys in yubinrc(5)
account joe@o.test
host smtp.o.test
port 587
tls on
tls_starttls on
auth on
user joe
from joe@o.test" "another host: a note, no preset, no password note (OAuth2 only)"
CASE

test_case 'authentication none: auth off, no user' <<'CASE'
dns_start || return 1
doc "$SCRATCH/n.xml" relay.n.test 587 STARTTLS '%EMAILADDRESS%' client-IP-address none
ac_start "/n.test/$WK=$SCRATCH/n.xml" || return 1
configure joe@n.test
is "$RC" 0 "exit 0"
is "$(cat "$OUT")" "# - copy this to your configuration file ~/.config/yubin/config
# - found in https://n.test/$WK
account joe@n.test
host relay.n.test
port 587
tls on
tls_starttls on
auth off
from joe@n.test" "the block"
CASE

test_case 'SRV records come first; none anywhere: 68' <<'CASE'
dns_start || return 1
doc "$SCRATCH/s.xml" smtp.other.test 465 SSL '' plain
ac_start "/srv.test/$WK=$SCRATCH/s.xml" || return 1
configure joe@srv.test
is "$RC" 0 "SRV: exit 0"
like "$(cat "$OUT")" '^host mail\.srv\.test$' "SRV: its host"
is "$(cat "$AC_LOG")" "" "SRV: no document asked for"
configure joe@none.test
is "$RC" 68 "none: 68 (EX_NOHOST)"
is "$(cat "$ERR")" "yubin: no SRV records for _submissions._tcp.none.test or _submission._tcp.none.test (RFC 6186) and no autoconfig document; ask your provider for the server's name and port" \
    "none: the message"
is "$(wc -l < "$AC_LOG")" 3 "none: the three URLs asked"
CASE

test_case 'hostile documents: warned about, each by its reason, bounded' <<'CASE'
dns_start || return 1
head -c 200000 /dev/zero | tr '\0' '<' > "$SCRATCH/huge"
printf 'HTTP/1.1 200 OK\r\n\r\n{"not": "xml"}\n' > "$SCRATCH/nonxml"
{
    printf '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    printf '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
    printf '<clientConfig>&lol2;</clientConfig>\n'
} > "$SCRATCH/bomb"
ac_start "/autoconfig.h.test/mail/config-v1.1.xml?emailaddress=joe%40h.test=$SCRATCH/huge" \
    "/h.test/$WK=$SCRATCH/nonxml" \
    "/autoconfig.thunderbird.net/v1.1/h.test=$SCRATCH/bomb" || return 1
configure joe@h.test
is "$RC" 68 "exit 68"
is "$(cat "$ERR")" "yubin: warning: autoconfig: the answer of '$AC_URL/autoconfig.h.test/mail/config-v1.1.xml?emailaddress=joe%40h.test' is larger than 64 KiB
yubin: warning: autoconfig: ignoring 'https://h.test/$WK': not an autoconfig document: text outside the root element
yubin: warning: autoconfig: ignoring 'https://autoconfig.thunderbird.net/v1.1/h.test': not an autoconfig document: a DOCTYPE or CDATA section (not accepted)
yubin: no SRV records for _submissions._tcp.h.test or _submission._tcp.h.test (RFC 6186) and no autoconfig document; ask your provider for the server's name and port" \
    "the warnings and the error"
is "$(cat "$OUT")" "" "nothing on stdout"
check "bounded (${SECS}s)" test "$SECS" -lt 20
CASE

test_case 'documents that cannot give an account' <<'CASE'
dns_start || return 1
deep=$(printf '<a>%.0s' $(seq 40))
docs=()
while IFS='|' read -r name body why; do
    printf '%s' "$body" > "$SCRATCH/$name.xml"
    docs+=("/$name.test/$WK=$SCRATCH/$name.xml")
    printf '%s\n' "$why" > "$SCRATCH/$name.why"
done <<EOF
html|<html><body><p>Moved</body></html>|the root element is not clientConfig
mismatch|<clientConfig><emailProvider></clientConfig>|an end tag does not match its start tag
open|<clientConfig><emailProvider>|the document ends inside an element
deep|<clientConfig>$deep|nested too deep
two|<clientConfig/><clientConfig/>|more than one root element
entity|<clientConfig>&#60;</clientConfig>|an entity other than &amp; &lt; &gt; &quot; &apos;
cdata|<clientConfig><![CDATA[x]]></clientConfig>|a DOCTYPE or CDATA section (not accepted)
noquote|<clientConfig version=1.1/>|an attribute value must be quoted
imap|<clientConfig><emailProvider><incomingServer type="imap"><hostname>i</hostname></incomingServer></emailProvider></clientConfig>|no outgoingServer of type smtp
nohost|<clientConfig><emailProvider><outgoingServer type="smtp"><port>587</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>|the smtp server has no hostname
port|<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>h.x</hostname><port>99999</port></outgoingServer></emailProvider></clientConfig>|the port is not in 1-65535
inject|<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>h.x&#10;auth off</hostname></outgoingServer></emailProvider></clientConfig>|an entity other than &amp; &lt; &gt; &quot; &apos;
space|<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>h.x tls off</hostname></outgoingServer></emailProvider></clientConfig>|the hostname is not a host name
user|<clientConfig><emailProvider><outgoingServer type="smtp"><username>a"b</username></outgoingServer></emailProvider></clientConfig>|the username holds a blank, a quote or a control character
sock|<clientConfig><emailProvider><outgoingServer type="smtp"><socketType>TLS</socketType></outgoingServer></emailProvider></clientConfig>|the socketType is not SSL, STARTTLS or plain
long|<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>$(head -c 300 /dev/zero | tr '\0' h)</hostname></outgoingServer></emailProvider></clientConfig>|a value is too long
EOF
ac_start "${docs[@]}" || return 1
for f in "$SCRATCH"/*.why; do
    name=$(basename "$f" .why)
    configure "joe@$name.test"
    is "$(sed -n 1p "$ERR")" "yubin: warning: autoconfig: ignoring 'https://$name.test/$WK': not an autoconfig document: $(cat "$f")" \
        "$name: the reason"
    is "$RC" 68 "$name: 68"
done
doc "$SCRATCH/plain.xml" smtp.p.test 25 plain '' password-cleartext
doc "$SCRATCH/ph.xml" '%EMAILLOCALPART%.x' 587 SSL '' plain
ac_start "/p.test/$WK=$SCRATCH/plain.xml" "/ph.test/$WK=$SCRATCH/ph.xml" || return 1
configure joe@p.test
is "$(sed -n 1p "$ERR")" "yubin: warning: autoconfig: ignoring 'https://p.test/$WK': its smtp server 'smtp.p.test' has no TLS (socketType plain)" \
    "socketType plain: not used"
configure 'jo~e@ph.test'
is "$(sed -n 1p "$ERR")" "yubin: warning: autoconfig: ignoring 'https://ph.test/$WK': its hostname '%EMAILLOCALPART%.x' is not a host name" \
    "a placeholder that makes no host name"
CASE

test_case 'a certificate not trusted: warned, not used' <<'CASE'
dns_start || return 1
doc "$SCRATCH/a.xml" smtp.a.test 465 SSL '' plain
ac_start "/a.test/$WK=$SCRATCH/a.xml" || return 1
CA=/etc/ssl/certs/ca-certificates.crt configure joe@a.test
is "$RC" 68 "exit 68"
like "$(sed -n 1p "$ERR")" "^yubin: warning: autoconfig: cannot reach '$AC_URL/autoconfig\.a\.test/[^']*': .*(certificate|CA)" \
    "the first URL: the certificate refused"
is "$(cat "$OUT")" "" "nothing printed"
CASE

done_testing
