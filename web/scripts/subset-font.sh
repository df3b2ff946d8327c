#!/bin/sh
# Makes public/fonts/fundwatch-sans-sc.woff2: Noto Sans CJK SC (SIL OFL 1.1, Debian's fonts-noto-cjk) cut down to the
# characters the console's own sources use, so its labels render the same everywhere without a font download from
# outside. Text from the data (names, findings) falls back to the system's CJK font. Needs fonttools and brotli:
#   python3 -m venv /tmp/fonts && /tmp/fonts/bin/pip install fonttools brotli && PYFTSUBSET=/tmp/fonts/bin/pyftsubset sh scripts/subset-font.sh
set -e
cd "$(dirname "$0")/.."
chars=$(cat src/*.ts src/*/*.ts src/*.vue src/*/*.vue index.html | LC_ALL=C.UTF-8 grep -o '[^ -~]' | sort -u | tr -d '\n')
"${PYFTSUBSET:-pyftsubset}" /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc --font-number=2 \
  --text="$chars¥０１２３４５６７８９" --unicodes="U+0020-007E,U+00A0-00FF,U+3000-303F,U+FF01-FF5E" \
  --flavor=woff2 --layout-features='*' --output-file=public/fonts/fundwatch-sans-sc.woff2
