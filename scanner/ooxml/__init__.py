"""Office Open XML packages (DOCX, XLSX, PPTX): one model of parts, relationships and safe XML.

``xml`` parses untrusted parts safely, ``package`` reads a package (the scan and the label
writer both go through it), ``edit`` writes a changed copy (the label writer's).
"""
