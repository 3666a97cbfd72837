"""The PDF portfolio report: what it shows (`data`), how it is drawn (`render`), and what it may load
(`fetcher`, `images`, `attachments`). `render.render_portfolio_pdf` is the one entry point."""
