// The dashboard's page, compiled in from tools/dashboard/web.
#pragma once

namespace slate::dashboard {

extern const char* const kIndexHtml;
extern const char* const kAppJs;
extern const char* const kStyleCss;

}  // namespace slate::dashboard
