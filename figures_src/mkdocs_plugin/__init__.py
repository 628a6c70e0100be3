"""MkDocs glue: embeds figures, figure references and living numbers in pages."""
