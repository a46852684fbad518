"""What leaves the app: CSV, PNG and SVG files of a view (files) and its PDF report (report)."""
