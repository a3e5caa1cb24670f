import Testing
@testable import StrataPlot

/// The document builder: escaped text, fixed number formatting, well-formed nesting.
@Suite struct SVGDocumentTests {
    @Test func textAndAttributesAreEscaped() {
        #expect(XMLEscaping.escape(#"a<b & "c" 'd'>"#) == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(XMLEscaping.escape("bell\u{07}tab\tok") == "belltab\tok")
        var document = SVGDocument(width: 10, height: 10, title: "x < y")
        document.text("dp=<2> & \"tp\"", x: 1, y: 2)
        document.rect(x: 0, y: 0, width: 1, height: 1, fill: "#000", tooltip: "a&b")
        let svg = document.rendered()
        #expect(svg.contains("<title>x &lt; y</title>"))
        #expect(svg.contains(">dp=&lt;2&gt; &amp; &quot;tp&quot;</text>"))
        #expect(svg.contains("<title>a&amp;b</title></rect>"))
    }

    @Test func numbersHaveAtMostTwoDecimalsAndNoNegativeZero() {
        #expect(SVGNumber.format(1) == "1")
        #expect(SVGNumber.format(1.005001) == "1.01")
        #expect(SVGNumber.format(2.50) == "2.5")
        #expect(SVGNumber.format(-0.001) == "0")
        #expect(SVGNumber.format(.nan) == "0")
    }

    @Test func aSmallDocumentIsExactlyThis() {
        var document = SVGDocument(width: 40, height: 20, title: "t")
        document.beginGroup("g")
        document.line(x1: 0, y1: 0.5, x2: 40, y2: 0.5, stroke: "#111")
        document.circle(cx: 3, cy: 4, r: 2, fill: "#222")
        document.endGroup()
        #expect(document.rendered() == """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20" font-family="Helvetica, Arial, sans-serif">
              <title>t</title>
              <rect x="0" y="0" width="40" height="20" fill="#ffffff"/>
              <g class="g">
                <line x1="0" y1="0.5" x2="40" y2="0.5" stroke="#111" stroke-width="1"/>
                <circle cx="3" cy="4" r="2" fill="#222"/>
              </g>
            </svg>

            """)
    }
}
