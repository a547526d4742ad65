# Sourced by the bench/run_*.sh scripts: rewrite one generated section of a Markdown file.
#
#   write_doc_section FILE NAME CONTENT [TITLE]
#
# Replaces the lines between "<!-- BEGIN NAME -->" and "<!-- END NAME -->" in FILE with
# CONTENT; everything else in the file is kept. A FILE without the markers is created (or
# overwritten) as "# TITLE" plus the markers around CONTENT.
write_doc_section() {
  local file=$1 name=$2 content=$3 title=${4:-$2}
  local begin="<!-- BEGIN $name -->" end="<!-- END $name -->"
  local work
  work=$(mktemp -d)
  if [[ ! -f "$file" ]] || ! grep -qF "$begin" "$file"; then
    mkdir -p "$(dirname "$file")"
    printf '# %s\n\n%s\n%s\n' "$title" "$begin" "$end" >"$file"
  fi
  printf '%s\n' "$content" >"$work/content.md"
  awk -v begin="$begin" -v end="$end" -v resfile="$work/content.md" '
    $0 == begin { print; while ((getline line < resfile) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$file" >"$work/out.md"
  cp "$work/out.md" "$file"
  rm -rf "$work"
  echo "== wrote $file ($name)" >&2
}
