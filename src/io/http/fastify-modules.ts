// fastify and the plugins the web UIs use, in one module that ui-server.ts imports when it first builds a UI
// (buildApp) and the REST gateway when it starts: a worker or a driver that has not built its UI yet has not
// loaded them. The master loads them when it starts (master-daemon.ts says why).

export { fastifyCookie } from '@fastify/cookie';
export { fastifyFormbody } from '@fastify/formbody';
export { fastifyHelmet } from '@fastify/helmet';
export { fastifyStatic } from '@fastify/static';
export { fastify } from 'fastify';
