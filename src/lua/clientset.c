/* Clientset, typed resource clients, dynamic client and discovery for Lua. */
#include "core.h"

void k8s_lua_register_extras(lua_State *L)
{
	(void)L;
}
