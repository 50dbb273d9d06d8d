"""Reports: a plain "report model" (dataclasses of tables and charts) and the builders that
render it to PDF (reportlab), XLSX (openpyxl, write-only), CSV and SVG charts.

The builders (`model`, `cells`, `csv`, `xlsx`, `pdf`, `charts`) are pure: rows in, bytes out,
no Flask and no database. The assemblers (`timing`, `adoption`, `record`) turn the figures of
`app.reports_pages.queries` into a report model with translated labels, so every format and
the report pages show the same numbers.
"""
