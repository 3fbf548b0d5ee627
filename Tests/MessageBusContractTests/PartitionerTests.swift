import MessageBus
import Testing

@Suite struct Murmur2PartitionerTests {
    // Vectors from Apache Kafka's UtilsTest.testMurmur2.
    @Test(arguments: [
        ("21", Int32(-973_932_308)), ("foobar", -790_332_482), ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func matchesKafka(input: String, expected: Int32) {
        #expect(Murmur2Partitioner.hash(Array(input.utf8)) == expected)
    }
}
