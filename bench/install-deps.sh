#!/usr/bin/env bash
# Installs what `make bench` and `make bench-detect` need besides Envoy (which comes with .venv):
# nginx, the ModSecurity v3 nginx module, the OWASP CRS and wrk (Debian/Ubuntu packages).
# Does nothing when everything is present. Our nginx runs on its own loopback ports; a system
# nginx that the package starts is stopped so it does not sit on port 80.
set -euo pipefail

PACKAGES=(nginx libnginx-mod-http-modsecurity modsecurity-crs wrk)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "bench/install-deps.sh: needs a Debian/Ubuntu system (dpkg, apt-get);" \
         "install ${PACKAGES[*]} by hand" >&2
    exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "bench/install-deps.sh: missing packages: ${missing[*]}" >&2
    echo "  not root and no password-less sudo; run as root:" >&2
    echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# The package may have started a system nginx; the benchmark uses its own instances.
"${SUDO[@]}" service nginx stop >/dev/null 2>&1 || true

for p in "${PACKAGES[@]}"; do
    installed "$p" || { echo "bench/install-deps.sh: $p did not install" >&2; exit 1; }
done
