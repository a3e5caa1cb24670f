// The parts of libxml2 that StrataTopology uses: parsing, the tree, and XML Schema validation.
//
// Debian builds libxml2 with ICU, so its encoding.h pulls in the system's ICU headers,
// whose enums clash with the ICU copy inside swift-corelibs-foundation in any module that
// also imports Foundation. Strata never touches libxml2's ICU converter structures, so the
// ICU part of the headers is switched off here.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>
