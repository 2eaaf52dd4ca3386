import t from 'tap'
import { imageRepository, parseImageReference } from '../../../lib/kube/image-reference.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

t.test('tag and digest are taken off; a registry with a port keeps its port', async t => {
  t.equal(imageRepository(`registry.test:5000/demo/web:1.2@${DIGEST}`), 'registry.test:5000/demo/web')
  t.same(parseImageReference(`registry.test:5000/demo/web:1.2@${DIGEST}`), { repository: 'registry.test:5000/demo/web', tag: '1.2', digest: DIGEST })
  t.same(parseImageReference('registry.test/demo/web'), { repository: 'registry.test/demo/web', tag: null, digest: null })
  t.same(parseImageReference(`registry.test/demo/web@${DIGEST}`), { repository: 'registry.test/demo/web', tag: null, digest: DIGEST })
  t.same(parseImageReference('registry.test/demo/web:release'), { repository: 'registry.test/demo/web', tag: 'release', digest: null })
})

t.test('Docker Hub short names are completed as a node pulls them', async t => {
  t.equal(imageRepository('nginx'), 'docker.io/library/nginx')
  t.equal(imageRepository('nginx:1.27'), 'docker.io/library/nginx')
  t.equal(imageRepository(`nginx@${DIGEST}`), 'docker.io/library/nginx')
  t.equal(imageRepository('docker.io/nginx'), 'docker.io/library/nginx')
  t.equal(imageRepository('index.docker.io/nginx:1'), 'docker.io/library/nginx', 'the legacy Docker Hub domain')
  t.equal(imageRepository('index.docker.io/library/nginx'), 'docker.io/library/nginx')
  t.equal(imageRepository('bitnami/redis:7'), 'docker.io/bitnami/redis', 'a first component without . or : is a Docker Hub namespace')
  t.equal(imageRepository('docker.io/bitnami/redis'), 'docker.io/bitnami/redis')
})

t.test('a first component is a domain when it has a . or a :, is localhost, or is not lowercase', async t => {
  t.equal(imageRepository('localhost/web'), 'localhost/web', 'localhost gets no library/')
  t.equal(imageRepository('localhost:5000/web:1'), 'localhost:5000/web')
  t.equal(imageRepository('registry.test/web'), 'registry.test/web', 'only Docker Hub has library/')
  t.equal(imageRepository('[::1]:5000/demo/web'), '[::1]:5000/demo/web')
  t.equal(imageRepository('127.0.0.1:5000/demo/web'), '127.0.0.1:5000/demo/web')
  t.equal(imageRepository('localhost'), 'docker.io/library/localhost', 'a single component is a Docker Hub name, whatever it looks like')
  t.equal(imageRepository('registry:5000'), 'docker.io/library/registry', '... and the part after : its tag')
})

t.test('the domain is compared whatever its case (host names are case-insensitive); the path must be lowercase', async t => {
  t.equal(imageRepository('Registry.Test:5000/demo/web:1'), 'registry.test:5000/demo/web')
  t.equal(imageRepository('Registry/web'), 'registry/web', 'an uppercase first component is a host, not the Docker Hub namespace registry/')
  t.equal(imageRepository('registry/web'), 'docker.io/registry/web')
  t.equal(imageRepository('registry.test/Demo/web'), null)
  t.equal(imageRepository('Nginx'), null)
})

t.test('what is not a reference is null', async t => {
  for (const value of [
    '', ' nginx', 'nginx ', 'registry.test/', '/web', 'registry.test//web', 'registry.test/web:', 'registry.test/web@',
    'https://registry.test/web', 'registry.test/web:-tag', `registry.test/web:${'t'.repeat(129)}`,
    'a'.repeat(64), // an image ID
    `registry.test/web@sha256:${'a'.repeat(63)}`, `registry.test/web@sha256:${'A'.repeat(64)}`,
    `registry.test/web@md5:${'a'.repeat(32)}`, `registry.test/web@${DIGEST}:1`,
    `registry.test/${'a'.repeat(256)}`
  ]) {
    t.equal(parseImageReference(value), null, JSON.stringify(value))
  }
  t.equal(imageRepository(`registry.test/${'a'.repeat(255)}`), `registry.test/${'a'.repeat(255)}`, 'a path of 255 characters is allowed')
  t.equal(imageRepository('a'.repeat(248)), null, 'the limit counts the library/ of a short name (8 + 248 > 255)')
  t.equal(imageRepository('a'.repeat(247)), `docker.io/library/${'a'.repeat(247)}`)
  t.equal(imageRepository(`registry.test/web:${'t'.repeat(128)}`), 'registry.test/web')
  t.same(parseImageReference(`registry.test/web@sha512:${'b'.repeat(128)}`)?.digest, `sha512:${'b'.repeat(128)}`)
})
