// Boost.JSON compiled in once for weft-httpbin and its tests, header-only style. The sample
// does not link weft_model (which holds Weft's own copy) to stay a small, separate program.
#include <boost/json/src.hpp>
