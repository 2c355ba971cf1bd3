"""`mllint stats A B`: two methods' per-seed results compared (PRODUCT §6).

Layout: `readers` (CSV/JSON/JSON lines, probe reports, folders, TensorBoard event folders), `welch` (Student-t
intervals, Welch's test, the smallest detectable difference, seeds needed, the verdict; the t distribution is
`mllint.probe.stats`'), `render` (text, JSON, Markdown, --plot), `cli` (the click command). No scipy.
"""
