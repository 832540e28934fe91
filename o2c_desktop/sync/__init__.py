"""Getting data in and out: file imports, ERP and risk connectors, mail, outbox."""
