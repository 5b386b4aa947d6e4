"""What a co-op shows the public: aggregate tables audited so that no figure describes one
person (``publish``, ``disclosure``), their charts, and the Datasette site that serves them."""
