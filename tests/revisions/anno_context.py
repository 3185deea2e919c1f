"""A small stand-in for http://www.w3.org/ns/anno.jsonld, written from the terms of the
W3C Web Annotation Vocabulary, so the export is expanded as JSON-LD without a network.

It holds only the terms the export uses (plus their prefixes); a term missing here
would be dropped by expansion, which the tests catch.
"""

from __future__ import annotations

OA = "http://www.w3.org/ns/oa#"
AS = "http://www.w3.org/ns/activitystreams#"
DCTERMS = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"

ANNO_CONTEXT = {
    "@context": {
        "oa": OA,
        "as": AS,
        "dcterms": DCTERMS,
        "rdf": RDF,
        "rdfs": RDFS,
        "xsd": XSD,
        "id": {"@id": "@id", "@type": "@id"},
        "type": {"@id": "@type", "@type": "@id"},
        "Annotation": "oa:Annotation",
        "AnnotationCollection": "as:OrderedCollection",
        "AnnotationPage": "as:OrderedCollectionPage",
        "TextualBody": "oa:TextualBody",
        "TextQuoteSelector": "oa:TextQuoteSelector",
        "TextPositionSelector": "oa:TextPositionSelector",
        "TimeState": "oa:TimeState",
        "editing": "oa:editing",
        "commenting": "oa:commenting",
        "body": {"@type": "@id", "@id": "oa:hasBody"},
        "target": {"@type": "@id", "@id": "oa:hasTarget"},
        "source": {"@type": "@id", "@id": "oa:hasSource"},
        "selector": {"@type": "@id", "@id": "oa:hasSelector"},
        "state": {"@type": "@id", "@id": "oa:hasState"},
        "motivation": {"@type": "@vocab", "@id": "oa:motivatedBy"},
        "purpose": {"@type": "@vocab", "@id": "oa:hasPurpose"},
        "value": {"@id": "rdf:value"},
        "exact": {"@id": "oa:exact"},
        "prefix": {"@id": "oa:prefix"},
        "suffix": {"@id": "oa:suffix"},
        "start": {"@id": "oa:start", "@type": "xsd:nonNegativeInteger"},
        "end": {"@id": "oa:end", "@type": "xsd:nonNegativeInteger"},
        "sourceDate": {"@id": "oa:sourceDate", "@type": "xsd:dateTime"},
        "created": {"@id": "dcterms:created", "@type": "xsd:dateTime"},
        "modified": {"@id": "dcterms:modified", "@type": "xsd:dateTime"},
        "label": {"@id": "rdfs:label"},
        "total": {"@id": "as:totalItems", "@type": "xsd:nonNegativeInteger"},
        "first": {"@type": "@id", "@id": "as:first"},
        "items": {"@id": "as:items", "@container": "@list"},
        "startIndex": {"@id": "as:startIndex", "@type": "xsd:nonNegativeInteger"},
    }
}


def offline_loader(url: str, options=None) -> dict:
    """A pyld document loader that knows one document and refuses all others."""
    if url.rstrip("/") != "http://www.w3.org/ns/anno.jsonld":
        raise AssertionError(f"the export refers to another document: {url}")
    return {"contextUrl": None, "documentUrl": url, "document": ANNO_CONTEXT}
