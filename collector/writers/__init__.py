"""The output writers: records in, bytes or text of one format out, one module per format.

- :mod:`collector.writers.json_export`: the JSON export document;
- :mod:`collector.writers.csv_writer`: the CSV export and the shared cell defusing;
- :mod:`collector.writers.stix`: a STIX 2.1 bundle; :mod:`collector.writers.misp`: a MISP event;
- :mod:`collector.writers.markdown`: Markdown escaping and the takedown request;
- :mod:`collector.writers.html_report`: the analysts' HTML report;
- :mod:`collector.writers.network_graph`: an operator network as nodes and edges, drawn by
  :mod:`collector.writers.network_html` (an HTML page) and :mod:`collector.writers.dot` (Graphviz);
- :mod:`collector.writers.output_file`: writing ``--output FILE`` safely.

The records come from :mod:`storage` (the export's site records, the report's figures, the
takedown packet, the operator network); a writer opens no session.
"""
